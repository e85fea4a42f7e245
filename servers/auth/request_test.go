package auth_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/valyala/fasthttp"
)

// seeing accepts the token "good" and records what it saw of the request.
type seeing struct{ saw *string }

func (s seeing) Verify(_ context.Context, token string, r auth.Request) (*auth.Info, error) {
	*s.saw = r.Method() + " " + r.URL() + " proof=" + r.Header("DPoP")
	if token != "good" {
		return nil, &auth.Error{Kind: auth.ErrInvalidToken, Reason: "not good"}
	}
	return &auth.Info{Subject: "s"}, nil
}

// TestVerifierSeesRequest: both middlewares hand the verifier the request
// (method, URL without query, headers), and with Scheme "DPoP" they take
// that scheme's tokens and challenge in it.
func TestVerifierSeesRequest(t *testing.T) {
	var saw string
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	std := httptest.NewServer(auth.Middleware(seeing{&saw}, auth.Options{Scheme: "DPoP"})(ok))
	defer std.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fast := &fasthttp.Server{Handler: auth.FastMiddleware(seeing{&saw}, auth.FastOptions{Scheme: "DPoP"}, func(*fasthttp.RequestCtx) {})}
	go fast.Serve(ln)
	defer fast.Shutdown()

	for name, base := range map[string]string{"net/http": std.URL, "fasthttp": "http://" + ln.Addr().String()} {
		for _, tc := range []struct {
			authz  string
			status int
			www    string
		}{
			{"DPoP good", 200, ""},
			{"DPoP bad", 401, `DPoP error="invalid_token"`},
			{"Bearer good", 400, `DPoP error="invalid_request", error_description="the Authorization scheme must be DPoP"`},
		} {
			saw = ""
			req, _ := http.NewRequest("POST", base+"/mcp?x=1", strings.NewReader("{}"))
			req.Header.Set("Authorization", tc.authz)
			req.Header.Set("DPoP", "p1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), tc.www) {
				t.Errorf("%s %q: %d %q, want %d %q", name, tc.authz, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.www)
			}
			if want := "POST " + base + "/mcp proof=p1"; tc.status != 400 && saw != want {
				t.Errorf("%s %q: verifier saw %q, want %q", name, tc.authz, saw, want)
			}
		}
	}
}
