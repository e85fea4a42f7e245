package authserver

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mcpbench/mcpbench/servers/auth"
)

// Claims are an access token's claims (RFC 9068).
type Claims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.ClaimStrings `json:"aud"`
	Expiry   int64            `json:"exp"`
	IssuedAt int64            `json:"iat"`
	ID       string           `json:"jti"`
	ClientID string           `json:"client_id"`
	Scope    string           `json:"scope,omitempty"`
	// CNF binds a DPoP token to its client's key (RFC 9449 §6.1).
	CNF *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is a token's cnf claim: the thumbprint of the key it is
// bound to.
type Confirmation struct {
	JKT string `json:"jkt"`
}

func (c *Claims) expires() time.Time { return time.Unix(c.Expiry, 0) }

// The jwt.Claims methods, so that Claims can be signed directly.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Expiry, 0)), nil
}
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *Claims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)  { return c.Audience, nil }

// oauthError is an RFC 6749 section 5.2 error response.
type oauthError struct {
	status int
	code   string
	desc   string
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func fail(status int, code, format string, a ...any) *oauthError {
	return &oauthError{status, code, fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="mcpbench"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

const maxForm = 16 << 10

// form parses an application/x-www-form-urlencoded body, refusing
// repeated parameters other than those in multi.
func form(w http.ResponseWriter, r *http.Request, multi ...string) (url.Values, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fail(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, fail(400, "invalid_request", "unreadable form: %v", err)
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, fail(400, "invalid_request", "parameters go in the body, not the query")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 && !slices.Contains(multi, k) {
			return nil, fail(400, "invalid_request", "parameter %q repeated", k)
		}
	}
	return r.PostForm, nil
}

// client authenticates the caller by client_secret_basic,
// client_secret_post or private_key_jwt (one of them, never two).
func (s *Server) client(r *http.Request, f url.Values) (string, *oauthError) {
	if f.Has("client_assertion") || f.Has("client_assertion_type") {
		return s.assertedClient(r, f)
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: the Basic credentials are form-urlencoded.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", fail(401, "invalid_client", "malformed Basic credentials")
		}
		if f.Has("client_secret") {
			return "", fail(400, "invalid_request", "use one client authentication method, not Basic and client_secret both")
		}
	} else if r.Header.Get("Authorization") != "" {
		return "", fail(401, "invalid_client", "unsupported Authorization scheme; use Basic or client_secret_post")
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
		if id == "" || secret == "" {
			return "", fail(401, "invalid_client", "client authentication required (client_secret_basic or client_secret_post)")
		}
	}
	want, ok := s.opts.Clients[id]
	// Compare even for unknown ids, so that timing does not tell which ids exist.
	if !ok {
		want = "\x00unknown-client"
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 || !ok {
		return "", fail(401, "invalid_client", "unknown client or wrong secret")
	}
	if basic && f.Has("client_id") && f.Get("client_id") != id {
		return "", fail(400, "invalid_request", "client_id in the body differs from the authenticated client")
	}
	return id, nil
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	resp, e := s.token(w, r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) (map[string]any, *oauthError) {
	f, e := form(w, r)
	if e != nil {
		return nil, e
	}
	client, e := s.client(r, f)
	if e != nil {
		return nil, e
	}
	var scope []string
	var aud string
	switch gt := f.Get("grant_type"); gt {
	case "client_credentials":
		if scope, e = s.scopes(f); e != nil {
			return nil, e
		}
		if aud, e = s.audience(f); e != nil {
			return nil, e
		}
	case "authorization_code":
		g, e := s.exchangeCode(client, f)
		if e != nil {
			return nil, e
		}
		scope, aud = g.scope, g.aud
	case "":
		return nil, fail(400, "invalid_request", "grant_type is required")
	default:
		return nil, fail(400, "unsupported_grant_type", "grant type %q: this server grants client_credentials and authorization_code", gt)
	}
	// A token request with a DPoP proof gets a token bound to its key.
	var jkt string
	if len(r.Header.Values("DPoP")) > 0 {
		var err error
		if jkt, err = s.dpop.Proof(auth.HTTPRequest(r)); err != nil {
			return nil, fail(400, "invalid_dpop_proof", "%v", err)
		}
	}
	tok, c, err := s.MintBound(client, aud, scope, jkt)
	if err != nil {
		return nil, fail(500, "server_error", "%v", err)
	}
	typ := "Bearer"
	if jkt != "" {
		typ = "DPoP"
	}
	return map[string]any{
		"access_token": tok,
		"token_type":   typ,
		"expires_in":   c.Expiry - c.IssuedAt,
		"scope":        c.Scope,
	}, nil
}

// Mint issues a token to client for the resource aud with scopes, as the
// token endpoint does after authenticating the client.
func (s *Server) Mint(client, aud string, scopes []string) (string, *Claims, error) {
	return s.MintBound(client, aud, scopes, "")
}

// MintBound is Mint for a token bound to the key whose RFC 7638 thumbprint
// is jkt (a DPoP token); "" mints a bearer token.
func (s *Server) MintBound(client, aud string, scopes []string, jkt string) (string, *Claims, error) {
	now := s.opts.Now()
	c := &Claims{
		Issuer: s.opts.Issuer, Subject: client, ClientID: client,
		Audience: jwt.ClaimStrings{aud}, IssuedAt: now.Unix(),
		Expiry: now.Add(s.opts.TTL).Unix(), ID: randomID(16),
		Scope: strings.Join(scopes, " "),
	}
	if jkt != "" {
		c.CNF = &Confirmation{JKT: jkt}
	}
	if s.opts.Tokens == "opaque" {
		tok := randomID(32)
		s.store.put(tok, c, now)
		return tok, c, nil
	}
	k := s.keys.signer()
	t := jwt.NewWithClaims(k.method, c)
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = k.kid
	tok, err := t.SignedString(k.private)
	return tok, c, err
}

func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	f, e := form(w, r)
	if e == nil {
		_, e = s.client(r, f)
	}
	if e != nil {
		writeError(w, r, e)
		return
	}
	tok := f.Get("token")
	if tok == "" {
		writeError(w, r, fail(400, "invalid_request", "token is required"))
		return
	}
	c := s.lookup(tok)
	if c == nil || !s.opts.Now().Before(c.expires()) {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "scope": c.Scope, "client_id": c.ClientID, "sub": c.Subject,
		"aud": c.Audience, "iss": c.Issuer, "exp": c.Expiry, "iat": c.IssuedAt,
		"jti": c.ID, "token_type": tokenType(c), "cnf": c.CNF,
	})
}

// tokenType is "DPoP" for a bound token, "Bearer" otherwise.
func tokenType(c *Claims) string {
	if c.CNF != nil {
		return "DPoP"
	}
	return "Bearer"
}

// lookup finds an opaque token's claims, or checks a JWT this server
// signed; nil means not a token of ours.
func (s *Server) lookup(tok string) *Claims {
	if c := s.store.get(tok); c != nil {
		return c
	}
	if s.opts.Tokens == "opaque" {
		return nil
	}
	var c struct {
		jwt.RegisteredClaims
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	t, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k := s.keys.byKID(kid, s.opts.Now())
		if k == nil {
			return nil, fmt.Errorf("unknown key %q", kid)
		}
		if t.Method.Alg() != k.alg {
			return nil, fmt.Errorf("key %q is for %s, not %s", kid, k.alg, t.Method.Alg())
		}
		if k.public != nil {
			return k.public, nil
		}
		return k.private, nil
	}, jwt.WithValidMethods([]string{s.opts.Alg}), jwt.WithIssuer(s.opts.Issuer), jwt.WithTimeFunc(s.opts.Now),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil || t.Header["typ"] != "at+jwt" || c.Subject == "" || c.ExpiresAt == nil || c.IssuedAt == nil {
		return nil
	}
	return &Claims{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, Expiry: c.ExpiresAt.Unix(),
		IssuedAt: c.IssuedAt.Unix(), ID: c.ID, ClientID: c.ClientID, Scope: c.Scope}
}

// Sign signs arbitrary claims and header fields with the current key:
// for tests that need a token only the real issuer could have made, but
// with claims it would never put in one (expired, another audience…).
func (s *Server) Sign(claims jwt.MapClaims, header map[string]any) (string, error) {
	k := s.keys.signer()
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["typ"] = "at+jwt"
	t.Header["kid"] = k.kid
	for h, v := range header {
		if v == nil {
			delete(t.Header, h)
		} else {
			t.Header[h] = v
		}
	}
	return t.SignedString(k.private)
}
