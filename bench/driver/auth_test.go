package driver

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
)

// tokens hands out "t1" until next is set, then that; err fails it.
type tokens struct {
	next atomic.Value
	err  error
}

func (s *tokens) Token(context.Context) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	if t, ok := s.next.Load().(string); ok {
		return t, nil
	}
	return "t1", nil
}

// TestBearer: the header carries the source's current token, a request
// that has it already is left alone without allocating, and a failing
// source fails Authorize and leaves the request as it was.
func TestBearer(t *testing.T) {
	src := &tokens{}
	a := BearerOf(src)
	req := new(fasthttp.Request)
	ctx := context.Background()
	if err := a.Authorize(ctx, Fast(req)); err != nil || string(req.Header.Peek("Authorization")) != "Bearer t1" {
		t.Fatalf("first: %v, %q", err, req.Header.Peek("Authorization"))
	}
	if n := testing.AllocsPerRun(100, func() { _ = a.Authorize(ctx, Fast(req)) }); n != 0 {
		t.Errorf("unchanged token: %v allocations a call, want 0", n)
	}
	src.next.Store("t2-longer")
	if err := a.Authorize(ctx, Fast(req)); err != nil || string(req.Header.Peek("Authorization")) != "Bearer t2-longer" {
		t.Errorf("new token: %v, %q", err, req.Header.Peek("Authorization"))
	}
	src.err = errors.New("as down")
	if err := a.Authorize(ctx, Fast(req)); err == nil || string(req.Header.Peek("Authorization")) != "Bearer t2-longer" {
		t.Errorf("failing source: %v, %q", err, req.Header.Peek("Authorization"))
	}
	if BearerOf(nil) != nil {
		t.Error("BearerOf(nil) is not nil")
	}
}

// TestRequestAdapters: both adapters show the method, the URL and the
// headers an Authorizer signs or sets.
func TestRequestAdapters(t *testing.T) {
	fr := new(fasthttp.Request)
	fr.SetRequestURI("http://127.0.0.1:9/mcp?x=1")
	fr.Header.SetMethod("POST")
	sr, _ := http.NewRequest("POST", "http://127.0.0.1:9/mcp?x=1", nil)
	for name, r := range map[string]Request{"fasthttp": Fast(fr), "net/http": Std(sr)} {
		if r.Method() != "POST" || r.URL() != "http://127.0.0.1:9/mcp?x=1" || r.Header("DPoP") != nil {
			t.Errorf("%s: %s %s %q", name, r.Method(), r.URL(), r.Header("DPoP"))
		}
		r.SetHeader("DPoP", "proof")
		if string(r.Header("DPoP")) != "proof" {
			t.Errorf("%s: DPoP %q after SetHeader", name, r.Header("DPoP"))
		}
	}
}
