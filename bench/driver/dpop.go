package driver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpbench/mcpbench/internal/dpop"
)

// DPoP is the Authorizer of DPoP-bound tokens (RFC 9449): it puts
// "Authorization: DPoP <token>" on each request, the token from Tokens,
// and a fresh proof signed by Key for that request (its method, URL and
// token). With Tokens nil it signs proofs alone, for token requests
// (oauth.Config.TokenRequest). It counts the time it spends signing: a
// client's cost per call, apart from the server's.
type DPoP struct {
	// Bearer holds the token source; its Prepare and SetupPhases are
	// DPoP's.
	Bearer
	Key *dpop.Key

	signs   atomic.Int64
	signing atomic.Int64 // ns
	nonce   atomic.Pointer[string]
}

const dpopPrefix = "DPoP "

// Authorize puts the current token and a new proof on r.
func (d *DPoP) Authorize(ctx context.Context, r Request) error {
	var tok string
	if d.Tokens != nil {
		var err error
		if tok, err = d.Tokens.Token(ctx); err != nil {
			return err
		}
		cur := r.Header("Authorization")
		if len(cur) != len(dpopPrefix)+len(tok) || string(cur[len(dpopPrefix):]) != tok {
			r.SetHeader("Authorization", dpopPrefix+tok)
		}
	}
	t := time.Now()
	var nonce string
	if n := d.nonce.Load(); n != nil {
		nonce = *n
	}
	proof, err := d.Key.Proof(r.Method(), r.URL(), tok, nonce)
	d.signing.Add(int64(time.Since(t)))
	d.signs.Add(1)
	if err != nil {
		return err
	}
	r.SetHeader("DPoP", proof)
	return nil
}

// Signing reports how many proofs were signed and the time it took.
func (d *DPoP) Signing() (proofs int64, took time.Duration) {
	return d.signs.Load(), time.Duration(d.signing.Load())
}

// Nonce is the server's DPoP nonce the proofs carry; "" for none.
func (d *DPoP) Nonce() string {
	if n := d.nonce.Load(); n != nil {
		return *n
	}
	return ""
}

// SetNonce keeps a server's DPoP nonce (RFC 9449 §9) for the proofs that
// follow.
func (d *DPoP) SetNonce(n string) { d.nonce.Store(&n) }

// NonceTaker is an Authorizer that puts a server's DPoP nonce in its
// proofs (DPoP).
type NonceTaker interface {
	Nonce() string
	SetNonce(string)
}

// TakeNonce gives a reply's DPoP-Nonce header value to a, when a takes
// nonces and the value is a new one, and reports whether it was new: a
// call refused for want of it (401 use_dpop_nonce) is then worth making
// once more. A nonce seen before costs no allocation.
func TakeNonce(a Authorizer, value []byte) bool {
	t, ok := a.(NonceTaker)
	if !ok || len(value) == 0 || string(value) == t.Nonce() {
		return false
	}
	t.SetNonce(string(value))
	return true
}

// NonceRefused takes a reply's DPoP-Nonce for a (TakeNonce) and reports
// whether the call was refused for want of it (401 with a new nonce): it
// is then worth making once more.
func NonceRefused(a Authorizer, resp *fasthttp.Response) bool {
	return TakeNonce(a, Peek(&resp.Header, "DPoP-Nonce")) && resp.StatusCode() == fasthttp.StatusUnauthorized
}
