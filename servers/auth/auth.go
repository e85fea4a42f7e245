// Package auth validates OAuth 2.1 bearer tokens on the resource side, the
// way an MCP server (or a gateway, or a GraphQL server) protecting itself
// must: the token's signature or its introspection, its issuer, its
// audience (this resource and no other: RFC 8707), its lifetime and its
// scopes, strictly by default. It answers failures with the RFC 6750
// status and WWW-Authenticate challenge, pointing at RFC 9728
// protected-resource metadata.
//
//	v, _ := auth.NewJWT(ctx, auth.JWTConfig{Issuer: iss, Audience: "http://127.0.0.1:8080/mcp", JWKSURL: iss + "/jwks.json"})
//	mw := auth.Middleware(auth.Cached(v, auth.CacheConfig{Size: 10_000}), auth.Options{ResourceMetadataURL: …})
//	http.Handle("/mcp", mw(mcpHandler))
//
// Verifiers return a *Error whose Kind is one of the sentinels below;
// Challenge maps it to the HTTP answer, in one table. Tokens are never
// passed on: the middlewares remove the Authorization header before the
// protected handler sees the request.
package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The kinds of failure, for errors.Is.
var (
	// ErrNoToken: the request carries no credentials. 401, a challenge
	// without an error code (RFC 6750 3.1).
	ErrNoToken = errors.New("no bearer token")
	// ErrMalformed: an Authorization header that is not one Bearer token.
	// 400 invalid_request.
	ErrMalformed = errors.New("malformed authorization")
	// ErrInvalidToken: a token that is expired, revoked, malformed, signed
	// wrongly, or meant for someone else. 401 invalid_token.
	ErrInvalidToken = errors.New("invalid token")
	// ErrInsufficientScope: a valid token without the scope the call
	// needs. 403 insufficient_scope.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrUnavailable: the token could not be checked (the authorization
	// server is unreachable). 503; the token may be fine.
	ErrUnavailable = errors.New("token check unavailable")
)

// Error is a failed check: Kind says which of the sentinels, Reason what
// exactly, Scope the scopes the call needs (for insufficient_scope).
type Error struct {
	Kind   error
	Reason string
	Scope  []string
	// Nonce is the DPoP nonce to send (DPoP-Nonce) with an ErrUseNonce.
	Nonce string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidToken) and its siblings work.
func (e *Error) Unwrap() error { return e.Kind }

func invalid(format string, a ...any) *Error {
	return &Error{Kind: ErrInvalidToken, Reason: fmt.Sprintf(format, a...)}
}

// Info is what a valid token says.
type Info struct {
	Subject  string
	ClientID string
	Issuer   string
	Audience []string
	Scopes   []string
	Expiry   time.Time
	ID       string
	// JKT is the thumbprint of the key a sender-constrained token is
	// bound to (its cnf.jkt, RFC 9449 §6); "" for a bearer token.
	JKT string
}

// HasScopes reports whether the token carries every scope in need.
func (i *Info) HasScopes(need []string) bool {
	for _, s := range need {
		if !slices.Contains(i.Scopes, s) {
			return false
		}
	}
	return true
}

// A Verifier checks one token. Implementations are safe for concurrent use.
type Verifier interface {
	// Verify checks token as presented with r: the request it came with,
	// or nil for a check made apart from any request. A verifier of a
	// sender-constrained token checks r's proof as well.
	Verify(ctx context.Context, token string, r Request) (*Info, error)
}

// Request is what a Verifier sees of the request a token came with: its
// method and URL (what a DPoP proof binds, RFC 9449), its headers, and its
// TLS connection (what a certificate-bound token binds, RFC 8705).
type Request interface {
	Method() string
	// URL is the request's URL as the client addressed it, without query
	// or fragment: scheme://host/path (DPoP's htu).
	URL() string
	// Header returns the first value of the named header, "" when absent.
	Header(name string) string
	// HeaderCount is how many times the named header is present.
	HeaderCount(name string) int
	// TLS is the request's TLS connection state, nil over plain HTTP.
	TLS() *tls.ConnectionState
}

// HTTPRequest returns r as a Request.
func HTTPRequest(r *http.Request) Request { return httpRequest{r} }

type httpRequest struct{ r *http.Request }

func (h httpRequest) Method() string              { return h.r.Method }
func (h httpRequest) Header(name string) string   { return h.r.Header.Get(name) }
func (h httpRequest) HeaderCount(name string) int { return len(h.r.Header.Values(name)) }
func (h httpRequest) TLS() *tls.ConnectionState   { return h.r.TLS }
func (h httpRequest) URL() string {
	scheme := "http"
	if h.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + h.r.Host + h.r.URL.EscapedPath()
}

// FastRequest returns ctx's request as a Request. It does not allocate
// until a method is called.
func FastRequest(ctx *fasthttp.RequestCtx) Request { return fastRequest{ctx} }

type fastRequest struct{ c *fasthttp.RequestCtx }

func (f fastRequest) Method() string            { return string(f.c.Method()) }
func (f fastRequest) Header(name string) string { return string(f.c.Request.Header.Peek(name)) }
func (f fastRequest) HeaderCount(name string) int {
	n := 0
	for k := range f.c.Request.Header.All() {
		if strings.EqualFold(string(k), name) {
			n++
		}
	}
	return n
}
func (f fastRequest) TLS() *tls.ConnectionState { return f.c.TLSConnectionState() }
func (f fastRequest) URL() string {
	scheme := "http"
	if f.c.IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + string(f.c.Host()) + string(f.c.Path())
}

// Options say how a middleware answers.
type Options struct {
	// ResourceMetadataURL is where this resource's RFC 9728 metadata is
	// served; every challenge names it.
	ResourceMetadataURL string
	// Scopes are the scopes a client should ask for, named in challenges.
	Scopes []string
	// Required returns the scopes one request needs beyond a valid token
	// (by MCP method and tool, say); nil means none.
	Required func(r *http.Request) []string
	// Scheme is the Authorization scheme tokens come in and challenges
	// name; default Bearer.
	Scheme string
	// BearerToo takes "Bearer" tokens as well as Scheme's (a DPoP
	// resource in DPoPAllowed mode: its verifier then refuses a bound
	// token sent as a bearer token).
	BearerToo bool
	// Algs, for a DPoP resource, are the proof algorithms its challenges
	// name (RFC 9449 §7.1's algs).
	Algs []string
}

// scheme is o's Authorization scheme.
func (o *Options) scheme() string {
	if o == nil || o.Scheme == "" {
		return "Bearer"
	}
	return o.Scheme
}

// Challenge maps a failed check to its HTTP status and WWW-Authenticate
// value, a challenge of o's scheme. It is the one table behind every
// middleware here.
func Challenge(err error, o *Options) (status int, wwwAuthenticate string) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: ErrUnavailable, Reason: err.Error()}
	}
	params := make([]string, 0, 4)
	switch e.Kind {
	case ErrNoToken:
		status = http.StatusUnauthorized
	case ErrMalformed:
		status = http.StatusBadRequest
		params = append(params, `error="invalid_request"`, quoted("error_description", e.Reason))
	case ErrInvalidToken:
		status = http.StatusUnauthorized
		params = append(params, `error="invalid_token"`, quoted("error_description", e.Reason))
	case ErrInvalidProof:
		status = http.StatusUnauthorized
		params = append(params, `error="invalid_dpop_proof"`, quoted("error_description", e.Reason))
	case ErrUseNonce:
		status = http.StatusUnauthorized
		params = append(params, `error="use_dpop_nonce"`, quoted("error_description", e.Reason))
	case ErrInsufficientScope:
		status = http.StatusForbidden
		params = append(params, `error="insufficient_scope"`, quoted("error_description", e.Reason))
	default:
		return http.StatusServiceUnavailable, ""
	}
	if o != nil && o.ResourceMetadataURL != "" {
		params = append(params, quoted("resource_metadata", o.ResourceMetadataURL))
	}
	scope := e.Scope
	if len(scope) == 0 && o != nil {
		scope = o.Scopes
	}
	if len(scope) > 0 {
		params = append(params, quoted("scope", strings.Join(scope, " ")))
	}
	if o != nil && len(o.Algs) > 0 {
		params = append(params, quoted("algs", strings.Join(o.Algs, " ")))
	}
	return status, o.scheme() + " " + strings.Join(params, ", ")
}

// quoted is an auth-param with a quoted-string value; characters a
// quoted-string cannot hold become '?'.
func quoted(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(`="`)
	for _, r := range value {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// MaxTokenBytes bounds the tokens the verifiers look at; longer ones are
// invalid without further work.
const MaxTokenBytes = 8 << 10

// ParseBearer reads an Authorization header value: "Bearer" (any case),
// one or more spaces, and a token of RFC 6750's b64token characters.
// An empty header is ErrNoToken; anything else that is not one such token
// is ErrMalformed (or ErrInvalidToken when only its size is wrong).
func ParseBearer(header string) (string, error) { return ParseToken(header, "Bearer") }

// ParseToken is ParseBearer for the Authorization scheme given (DPoP's,
// say, which carries the same token syntax).
func ParseToken(header, scheme string) (string, error) {
	if header == "" {
		return "", &Error{Kind: ErrNoToken, Reason: "no Authorization header"}
	}
	got, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(got, scheme) {
		if strings.EqualFold(strings.TrimSpace(header), scheme) {
			return "", &Error{Kind: ErrMalformed, Reason: scheme + " without a token"}
		}
		return "", &Error{Kind: ErrMalformed, Reason: "the Authorization scheme must be " + scheme}
	}
	tok := strings.TrimLeft(rest, " ")
	if tok == "" {
		return "", &Error{Kind: ErrMalformed, Reason: scheme + " without a token"}
	}
	if len(tok) > MaxTokenBytes {
		return "", invalid("token of %d bytes; at most %d", len(tok), MaxTokenBytes)
	}
	// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	eq := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c == '=':
			eq = true
		case eq:
			return "", &Error{Kind: ErrMalformed, Reason: "'=' inside the token"}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return "", &Error{Kind: ErrMalformed, Reason: "a character outside RFC 6750's token characters"}
		}
	}
	if tok[0] == '=' {
		return "", &Error{Kind: ErrMalformed, Reason: "the token is only '='"}
	}
	return tok, nil
}
