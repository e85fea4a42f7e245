package driver

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/valyala/fasthttp"
)

// Request is what an Authorizer sees of one outgoing request: its method
// and URL (what a DPoP proof signs) and its headers.
type Request interface {
	Method() string
	URL() string
	// Header returns the header's current value, nil when it is absent.
	// The bytes are valid until the request changes.
	Header(name string) []byte
	SetHeader(name, value string)
}

// An Authorizer puts credentials on each outgoing request: every driver
// calls it for every request it sends (calls, session set-up and
// teardown), so that a proof that changes per request fits as well as a
// bearer token. ctx bounds any I/O it needs, such as fetching a token.
// It is called from several workers at once.
type Authorizer interface {
	Authorize(ctx context.Context, r Request) error
}

// Fast returns req as a Request. It does not allocate.
func Fast(req *fasthttp.Request) Request { return fastRequest{req} }

type fastRequest struct{ r *fasthttp.Request }

func (f fastRequest) Method() string               { return string(f.r.Header.Method()) }
func (f fastRequest) URL() string                  { return f.r.URI().String() }
func (f fastRequest) Header(name string) []byte    { return f.r.Header.Peek(name) }
func (f fastRequest) SetHeader(name, value string) { f.r.Header.Set(name, value) }

// Std returns req as a Request.
func Std(req *http.Request) Request { return stdRequest{req} }

type stdRequest struct{ r *http.Request }

func (s stdRequest) Method() string { return s.r.Method }
func (s stdRequest) URL() string    { return s.r.URL.String() }
func (s stdRequest) Header(name string) []byte {
	if v := s.r.Header.Values(name); len(v) > 0 {
		return []byte(v[0])
	}
	return nil
}
func (s stdRequest) SetHeader(name, value string) { s.r.Header.Set(name, value) }

// Bearer is the Authorizer of an OAuth bearer token (RFC 6750): it puts
// "Authorization: Bearer <token>" on each request, the token from its
// source. It leaves a request alone whose header already holds the
// current token, so that a request reused call after call is not rebuilt
// and the hot path does not allocate. It passes Prepare and SetupPhases
// on to its source.
type Bearer struct{ Tokens bench.TokenSource }

// BearerOf returns the bearer Authorizer of ts, or nil when ts is nil.
func BearerOf(ts bench.TokenSource) Authorizer {
	if ts == nil {
		return nil
	}
	return &Bearer{Tokens: ts}
}

const bearerPrefix = "Bearer "

// Authorize puts the source's current token on r.
func (b *Bearer) Authorize(ctx context.Context, r Request) error {
	tok, err := b.Tokens.Token(ctx)
	if err != nil {
		return err
	}
	cur := r.Header("Authorization")
	if len(cur) == len(bearerPrefix)+len(tok) && string(cur[:len(bearerPrefix)]) == bearerPrefix && string(cur[len(bearerPrefix):]) == tok {
		return nil
	}
	r.SetHeader("Authorization", bearerPrefix+tok)
	return nil
}

// Prepare runs the source's own preparation (OAuth discovery, the first
// token), if it has one.
func (b *Bearer) Prepare(ctx context.Context) error {
	if p, ok := b.Tokens.(bench.Preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

// SetupPhases reports the source's preparation steps, if it times them,
// in a map of the caller's own.
func (b *Bearer) SetupPhases() map[string]time.Duration {
	if p, ok := b.Tokens.(bench.PhaseReporter); ok {
		return maps.Clone(p.SetupPhases())
	}
	return nil
}

// Prepare runs a's preparation when it has one, and returns its timed
// steps (nil when it times none).
func Prepare(ctx context.Context, a Authorizer) (map[string]time.Duration, error) {
	p, ok := a.(bench.Preparer)
	if !ok {
		return nil, nil
	}
	if err := p.Prepare(ctx); err != nil {
		return nil, err
	}
	if pr, ok := a.(bench.PhaseReporter); ok {
		return pr.SetupPhases(), nil
	}
	return nil, nil
}
