package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/valyala/fasthttp"
)

type infoKey struct{}

// InfoFromContext returns the token information a middleware put in ctx.
func InfoFromContext(ctx context.Context) *Info {
	i, _ := ctx.Value(infoKey{}).(*Info)
	return i
}

// check is the whole decision for one request, shared by the middlewares.
func check(ctx context.Context, v Verifier, r Request, scheme string, bearerToo bool, header string, headers int, queryToken bool, need func() []string) (*Info, error) {
	if headers > 1 {
		return nil, &Error{Kind: ErrMalformed, Reason: "more than one Authorization header"}
	}
	if queryToken {
		return nil, &Error{Kind: ErrMalformed, Reason: "access tokens go in the Authorization header, never in the URL"}
	}
	tok, err := ParseToken(header, scheme)
	if err != nil && bearerToo {
		// A DPoP resource that takes bearer tokens too (DPoPAllowed);
		// its verifier decides, seeing the scheme in the request.
		if t, berr := ParseToken(header, "Bearer"); berr == nil {
			tok, err = t, nil
		}
	}
	if err != nil {
		return nil, err
	}
	info, err := v.Verify(ctx, tok, r)
	if err != nil {
		return nil, err
	}
	if need != nil {
		if scopes := need(); !info.HasScopes(scopes) {
			return nil, &Error{Kind: ErrInsufficientScope, Reason: "this call needs scope " + strings.Join(scopes, " "), Scope: scopes}
		}
	}
	return info, nil
}

// serverNonce is the DPoP nonce a verifier that asks for nonces is at, for
// an accepted call's answer: a function made once per middleware; nil for
// a verifier without nonces.
func serverNonce(v Verifier) func() string {
	if d, ok := v.(*DPoPVerifier); ok && d.nonces != nil {
		return d.Nonce
	}
	return nil
}

// nonceOf is the DPoP nonce a refusal hands the client, or "".
func nonceOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Nonce
	}
	return ""
}

// errorBody is the JSON body of a refusal.
func errorBody(status int, err error) []byte {
	code := map[int]string{400: "invalid_request", 401: "invalid_token", 403: "insufficient_scope", 503: "temporarily_unavailable"}[status]
	if errors.Is(err, ErrInvalidProof) {
		code = "invalid_dpop_proof"
	}
	if errors.Is(err, ErrUseNonce) {
		code = "use_dpop_nonce"
	}
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": err.Error()})
	return b
}

// Middleware protects an http.Handler: a request without a valid token,
// or without the scopes o.Required asks, is refused by Challenge's table;
// an accepted one reaches next with the Authorization header removed and
// the token's Info in its context.
func Middleware(v Verifier, o Options) func(http.Handler) http.Handler {
	dpopScheme(v, &o)
	nonce := serverNonce(v)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var need func() []string
			if o.Required != nil {
				need = func() []string { return o.Required(r) }
			}
			hs := r.Header.Values("Authorization")
			var h string
			if len(hs) > 0 {
				h = hs[0]
			}
			info, err := check(r.Context(), v, HTTPRequest(r), o.scheme(), o.BearerToo, h, len(hs), r.URL.Query().Has("access_token"), need)
			if err != nil {
				status, www := Challenge(err, &o)
				if www != "" {
					w.Header().Set("WWW-Authenticate", www)
				}
				if n := nonceOf(err); n != "" {
					w.Header().Set("DPoP-Nonce", n)
				}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(status)
				w.Write(errorBody(status, err))
				return
			}
			r.Header.Del("Authorization")
			if nonce != nil {
				w.Header().Set("DPoP-Nonce", nonce())
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		})
	}
}

// dpopScheme makes a middleware whose verifier checks DPoP proofs speak
// DPoP: tokens in the DPoP scheme (and Bearer too in allowed mode), and
// challenges that name it and its algorithms (RFC 9449 §7.1).
func dpopScheme(v Verifier, o *Options) {
	if d, ok := v.(*DPoPVerifier); ok && o.Scheme == "" {
		o.Scheme, o.BearerToo, o.Algs = "DPoP", d.cfg.Mode == DPoPAllowed, d.Algs()
	}
}

// SDKVerifier adapts v to the go-sdk's auth.RequireBearerToken. That
// middleware answers every failure 401 (or 403 for its own scope check)
// and its challenge carries no error code: Middleware is the complete
// answer; this is for users of the SDK's own.
func SDKVerifier(v Verifier) sdkauth.TokenVerifier {
	return func(ctx context.Context, token string, r *http.Request) (*sdkauth.TokenInfo, error) {
		info, err := v.Verify(ctx, token, HTTPRequest(r))
		if err != nil {
			if e, ok := err.(*Error); ok && e.Kind == ErrUnavailable {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", sdkauth.ErrInvalidToken, err)
		}
		return &sdkauth.TokenInfo{Scopes: info.Scopes, Expiration: info.Expiry, UserID: info.Subject,
			Extra: map[string]any{"client_id": info.ClientID}}, nil
	}
}

// FastOptions say how FastMiddleware answers.
type FastOptions struct {
	ResourceMetadataURL string
	Scopes              []string
	// Required returns the scopes one request needs beyond a valid token.
	Required func(ctx *fasthttp.RequestCtx) []string
	// Scheme is as Options.Scheme; default Bearer.
	Scheme string
	// Algs and BearerToo are as in Options.
	Algs      []string
	BearerToo bool
}

// UserValueKey is where FastMiddleware puts the token's *Info on the
// fasthttp.RequestCtx.
const UserValueKey = "mcpbench.auth.info"

// FastMiddleware is Middleware for fasthttp.
func FastMiddleware(v Verifier, o FastOptions, next fasthttp.RequestHandler) fasthttp.RequestHandler {
	if d, ok := v.(*DPoPVerifier); ok && o.Scheme == "" {
		o.Scheme, o.BearerToo, o.Algs = "DPoP", d.cfg.Mode == DPoPAllowed, d.Algs()
	}
	co := &Options{ResourceMetadataURL: o.ResourceMetadataURL, Scopes: o.Scopes, Scheme: o.Scheme, Algs: o.Algs, BearerToo: o.BearerToo}
	nonce := serverNonce(v)
	return func(ctx *fasthttp.RequestCtx) {
		var need func() []string
		if o.Required != nil {
			need = func() []string { return o.Required(ctx) }
		}
		n := 0
		var h []byte
		for k, val := range ctx.Request.Header.All() {
			if strings.EqualFold(string(k), "Authorization") {
				if n == 0 {
					h = val
				}
				n++
			}
		}
		info, err := check(ctx, v, FastRequest(ctx), co.scheme(), co.BearerToo, string(h), n, ctx.QueryArgs().Has("access_token"), need)
		if err != nil {
			status, www := Challenge(err, co)
			if www != "" {
				ctx.Response.Header.Set("WWW-Authenticate", www)
			}
			if n := nonceOf(err); n != "" {
				ctx.Response.Header.Set("DPoP-Nonce", n)
			}
			ctx.Response.Header.Set("Cache-Control", "no-store")
			ctx.SetContentType("application/json")
			ctx.SetStatusCode(status)
			ctx.SetBody(errorBody(status, err))
			return
		}
		ctx.Request.Header.Del("Authorization")
		ctx.SetUserValue(UserValueKey, info)
		next(ctx)
		if nonce != nil { // after next: a proxy replaces the whole response
			ctx.Response.Header.Set("DPoP-Nonce", nonce())
		}
	}
}

// FastInfo returns the token information FastMiddleware stored.
func FastInfo(ctx *fasthttp.RequestCtx) *Info {
	i, _ := ctx.UserValue(UserValueKey).(*Info)
	return i
}

// ResourceMetadata is RFC 9728 protected-resource metadata.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
}

// MetadataPath is where RFC 9728 puts the metadata of resource: the
// well-known prefix, then the resource's path.
func MetadataPath(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return "/.well-known/oauth-protected-resource"
	}
	return "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/")
}

// MetadataURL is the full URL of resource's metadata.
func MetadataURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + MetadataPath(resource)
}

// JSON returns the metadata as served.
func (m ResourceMetadata) JSON() []byte {
	if m.BearerMethodsSupported == nil {
		m.BearerMethodsSupported = []string{"header"}
	}
	b, _ := json.Marshal(m)
	return b
}

// MetadataHandler serves m (GET only).
func MetadataHandler(m ResourceMetadata) http.Handler {
	body := m.JSON()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(body)
	})
}

// FastMetadataHandler serves m on fasthttp (GET only).
func FastMetadataHandler(m ResourceMetadata) fasthttp.RequestHandler {
	body := m.JSON()
	return func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		ctx.SetContentType("application/json")
		ctx.Response.Header.Set("Cache-Control", "max-age=300")
		ctx.SetBody(body)
	}
}
