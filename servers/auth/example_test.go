package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/mcpbench/mcpbench/servers/auth"
)

// tokens is a Verifier that knows its tokens by heart; a real server uses
// auth.NewJWT or auth.NewIntrospection.
type tokens map[string]*auth.Info

func (t tokens) Verify(_ context.Context, token string, _ auth.Request) (*auth.Info, error) {
	if info, ok := t[token]; ok {
		return info, nil
	}
	return nil, &auth.Error{Kind: auth.ErrInvalidToken, Reason: "unknown token"}
}

// The middleware in front of a handler: no token, a good one, a bad one.
func ExampleMiddleware() {
	v := tokens{"s3cret": {Subject: "bench", Scopes: []string{"tools:call"}}}
	mw := auth.Middleware(v, auth.Options{ResourceMetadataURL: "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := auth.InfoFromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", info.Subject)
	}))
	for _, authorization := range []string{"", "Bearer s3cret", "Bearer forged"} {
		req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body.String())
			continue
		}
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 401 Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
	// 200 hello, bench
	// 401 Bearer error="invalid_token", error_description="unknown token", resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
}
