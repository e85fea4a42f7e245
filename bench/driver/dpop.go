package driver

import (
	"context"
	"sync/atomic"
	"time"

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
	proof, err := d.Key.Proof(r.Method(), r.URL(), tok, "")
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
