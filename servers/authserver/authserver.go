// Package authserver is a small, real OAuth 2.1 authorization server for
// machine-to-machine clients, the embedded default that mcpbench's
// protected servers trust:
//
//   - RFC 8414 metadata at /.well-known/oauth-authorization-server
//   - the client-credentials grant at /token, clients authenticated with
//     client_secret_basic or client_secret_post
//   - the RFC 8707 resource parameter, which becomes the token's audience
//   - JWT access tokens with the RFC 9068 claims (iss, sub, aud, exp, iat,
//     jti, client_id, scope), signed HS256, RS256, ES256 or EdDSA, or opaque
//     tokens
//   - RFC 7662 introspection at /introspect, for authenticated clients
//   - the public keys at /jwks.json, rotated on demand; a retired key stays
//     published until the last token it signed has expired
//
// Use:
//
//	s, _ := authserver.New(authserver.Options{Issuer: "http://127.0.0.1:9000",
//		Clients: map[string]string{"bench": "secret"}})
//	http.Serve(ln, s.Handler())
package authserver

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/servers/auth"

	"github.com/mcpbench/mcpbench/servers/internal/serving"
)

// Options configures a Server. Zero values mean the documented defaults.
type Options struct {
	// Issuer is the server's URL, as tokens and metadata name it (required;
	// Serve fills it from the listener when empty).
	Issuer string
	// Clients maps client ids to their secrets.
	Clients map[string]string
	// ClientKeys maps client ids to the public keys their JWT assertions
	// are signed with (RFC 7523, private_key_jwt): ECDSA P-256, RSA or
	// Ed25519. At least one client, by secret or by key.
	ClientKeys map[string]crypto.PublicKey
	// Alg signs JWTs: HS256, RS256 (default), ES256 or EdDSA.
	Alg string
	// HMACSecret is HS256's shared key; empty means a random one, which
	// HMACKey returns.
	HMACSecret []byte
	// Tokens is "jwt" (default) or "opaque".
	Tokens string
	// TTL is the tokens' lifetime; 0 means one hour.
	TTL time.Duration
	// Scopes are the scopes clients may ask for; nil means
	// DefaultScopes. A request without scope gets all of them.
	Scopes []string
	// DefaultResource is the audience of a token requested without the
	// resource parameter; empty means such a request is refused.
	DefaultResource string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultScopes are the scopes the MCP servers' tools need.
var DefaultScopes = []string{"tools:read", "tools:call"}

// Server is an authorization server. Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	keys  *keyring
	mux   *http.ServeMux
	meta  []byte
	store *opaqueStore
	codes codeStore
	jtis  jtiStore
	dpop  *auth.DPoPVerifier // checks token requests' DPoP proofs
}

// New checks opts and makes a server with a fresh signing key.
func New(opts Options) (*Server, error) {
	if opts.Issuer == "" {
		return nil, errors.New("authserver: Issuer is required")
	}
	if u, err := url.Parse(opts.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("authserver: issuer %q must be an http(s) URL without query or fragment", opts.Issuer)
	}
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	if len(opts.Clients)+len(opts.ClientKeys) == 0 {
		return nil, errors.New("authserver: at least one client (id and secret, or id and public key) is required")
	}
	if err := publicKeys(opts.ClientKeys); err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	for id, secret := range opts.Clients {
		if id == "" || secret == "" || strings.Contains(id, ":") {
			return nil, fmt.Errorf("authserver: client %q: ids and secrets must be non-empty, ids without ':'", id)
		}
	}
	if opts.Alg == "" {
		opts.Alg = "RS256"
	}
	switch opts.Tokens {
	case "":
		opts.Tokens = "jwt"
	case "jwt", "opaque":
	default:
		return nil, fmt.Errorf("authserver: tokens %q: want jwt or opaque", opts.Tokens)
	}
	if opts.TTL == 0 {
		opts.TTL = time.Hour
	}
	if opts.TTL < time.Second {
		return nil, fmt.Errorf("authserver: token lifetime %v is under a second", opts.TTL)
	}
	if opts.Scopes == nil {
		opts.Scopes = DefaultScopes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, keys: &keyring{alg: opts.Alg, secret: opts.HMACSecret, ttl: opts.TTL}, store: newOpaqueStore()}
	if err := s.keys.rotate(opts.Now()); err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	dp, err := auth.NewDPoP(nil, auth.DPoPConfig{Mode: auth.DPoPAllowed, Now: opts.Now})
	if err != nil {
		return nil, err
	}
	s.dpop = dp
	meta, err := json.Marshal(s.Metadata())
	if err != nil {
		return nil, err
	}
	s.meta = meta
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.serveMetadata)
	s.mux.HandleFunc("POST /token", s.serveToken)
	s.mux.HandleFunc("GET /authorize", s.serveAuthorize)
	s.mux.HandleFunc("POST /introspect", s.serveIntrospect)
	s.mux.HandleFunc("GET /jwks.json", s.serveJWKS)
	return s, nil
}

// Metadata is the server's RFC 8414 metadata.
func (s *Server) Metadata() map[string]any {
	iss := s.opts.Issuer
	return map[string]any{
		"issuer":                                           iss,
		"token_endpoint":                                   iss + "/token",
		"jwks_uri":                                         iss + "/jwks.json",
		"introspection_endpoint":                           iss + "/introspect",
		"authorization_endpoint":                           iss + "/authorize",
		"grant_types_supported":                            []string{"client_credentials", "authorization_code"},
		"dpop_signing_alg_values_supported":                auth.DPoPAlgs,
		"response_types_supported":                         []string{"code"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256", "RS256", "EdDSA"},
		"introspection_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post"},
		"authorization_response_iss_parameter_supported":   true,
		"scopes_supported":                                 s.opts.Scopes,
	}
}

// Issuer returns the server's issuer URL.
func (s *Server) Issuer() string { return s.opts.Issuer }

// HMACKey returns the HS256 shared key (nil for other algorithms): the
// one secret a resource server needs to check HS256 tokens.
func (s *Server) HMACKey() []byte {
	if b, ok := s.keys.signer().private.([]byte); ok {
		return b
	}
	return nil
}

// Rotate makes a new signing key current. The old key stays in the JWKS
// until the tokens it signed have expired.
func (s *Server) Rotate() error { return s.keys.rotate(s.opts.Now()) }

// Handler serves the server's endpoints.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	w.Write(s.meta)
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := s.keys.jwks(s.opts.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=60")
	w.Write(b)
}

// Serve serves s on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := serving.HTTP2(&http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10})
	return serving.Until(ctx, func() error { return hs.Serve(ln) }, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		return nil
	})
}

// opaqueStore keeps the opaque tokens issued, until they expire.
type opaqueStore struct {
	mu     sync.Mutex
	tokens map[string]*Claims
	swept  time.Time
}

func newOpaqueStore() *opaqueStore { return &opaqueStore{tokens: map[string]*Claims{}} }

func (o *opaqueStore) put(token string, c *Claims, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now.Sub(o.swept) > time.Minute {
		for t, c := range o.tokens {
			if !now.Before(c.expires()) {
				delete(o.tokens, t)
			}
		}
		o.swept = now
	}
	o.tokens[token] = c
}

func (o *opaqueStore) get(token string) *Claims {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokens[token]
}
