package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The authorization-code grant (OAuth 2.1, RFC 6749 section 4.1) with PKCE
// (RFC 7636, S256 only), for test use: consent is automatic, so a client
// that follows the redirect gets its code at once. Redirect URIs must be
// loopback (http://127.0.0.1, [::1] or localhost, any port and path), the
// native-app rule of RFC 8252 section 7.3: nothing is sent off the machine.

// codeTTL is how long an authorization code may wait for its exchange.
const codeTTL = time.Minute

// grant is what an authorization code stands for.
type grant struct {
	client, redirect, challenge, aud string
	scope                            []string
	expires                          time.Time
}

// codeStore keeps the codes issued and not yet exchanged; each is taken
// once.
type codeStore struct {
	mu    sync.Mutex
	codes map[string]*grant
}

func (c *codeStore) put(code string, g *grant, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codes == nil {
		c.codes = map[string]*grant{}
	}
	for k, old := range c.codes { // few codes live at once: sweep on insert
		if now.After(old.expires) {
			delete(c.codes, k)
		}
	}
	c.codes[code] = g
}

func (c *codeStore) take(code string) *grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.codes[code]
	delete(c.codes, code)
	return g
}

// loopbackRedirect reports whether raw is an http redirect URI on the
// loopback interface, without fragment.
func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// serveAuthorize answers an authorization request. A request whose client
// or redirect URI cannot be trusted is refused here (400), never
// redirected; any other error goes back to the redirect URI with state
// and iss (RFC 9207), as does the code.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			writeError(w, r, fail(400, "invalid_request", "parameter %q repeated", k))
			return
		}
	}
	client, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if _, ok := s.opts.Clients[client]; !ok {
		writeError(w, r, fail(400, "invalid_request", "unknown client_id %q", client))
		return
	}
	if !loopbackRedirect(redirect) {
		writeError(w, r, fail(400, "invalid_request", "redirect_uri %q: this server redirects to loopback http URIs only (RFC 8252 7.3)", redirect))
		return
	}
	back := func(params url.Values) {
		u, _ := url.Parse(redirect)
		v := u.Query()
		for k, p := range params {
			v[k] = p
		}
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		v.Set("iss", s.opts.Issuer)
		u.RawQuery = v.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	g, e := s.authorizeGrant(q)
	if e != nil {
		back(url.Values{"error": {e.code}, "error_description": {e.desc}})
		return
	}
	g.client, g.redirect = client, redirect
	code := randomID(32)
	s.codes.put(code, g, s.opts.Now())
	back(url.Values{"code": {code}})
}

// authorizeGrant checks the request's response type, PKCE challenge,
// scope and resource, and returns what its code will stand for.
func (s *Server) authorizeGrant(q url.Values) (*grant, *oauthError) {
	if rt := q.Get("response_type"); rt != "code" {
		return nil, fail(400, "unsupported_response_type", "response_type %q: this server issues codes only", rt)
	}
	ch, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if ch == "" || method != "S256" {
		return nil, fail(400, "invalid_request", "PKCE is required: code_challenge with code_challenge_method S256")
	}
	if len(ch) != 43 {
		return nil, fail(400, "invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)")
	}
	scope, e := s.scopes(q)
	if e != nil {
		return nil, e
	}
	aud, e := s.audience(q)
	if e != nil {
		return nil, e
	}
	return &grant{challenge: ch, aud: aud, scope: scope, expires: s.opts.Now().Add(codeTTL)}, nil
}

// exchangeCode checks an authorization_code token request made by client
// and returns the grant its code stood for. A code is good once.
func (s *Server) exchangeCode(client string, f url.Values) (*grant, *oauthError) {
	g := s.codes.take(f.Get("code"))
	switch {
	case g == nil || s.opts.Now().After(g.expires):
		return nil, fail(400, "invalid_grant", "unknown, used or expired authorization code")
	case g.client != client:
		return nil, fail(400, "invalid_grant", "the code was issued to another client")
	case f.Get("redirect_uri") != g.redirect:
		return nil, fail(400, "invalid_grant", "redirect_uri differs from the authorization request's")
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
		return nil, fail(400, "invalid_grant", "code_verifier does not match the code_challenge")
	}
	if f.Has("resource") && f.Get("resource") != g.aud {
		return nil, fail(400, "invalid_target", "resource differs from the authorization request's")
	}
	return g, nil
}

// scopes are the scopes a request asks for (all when it names none), each
// one this server grants.
func (s *Server) scopes(v url.Values) ([]string, *oauthError) {
	if !v.Has("scope") {
		return s.opts.Scopes, nil
	}
	scope := strings.Fields(v.Get("scope"))
	for _, sc := range scope {
		if !slices.Contains(s.opts.Scopes, sc) {
			return nil, fail(400, "invalid_scope", "scope %q is not one of %v", sc, s.opts.Scopes)
		}
	}
	return scope, nil
}

// audience is the token's audience: the RFC 8707 resource parameter, or
// the server's default resource.
func (s *Server) audience(v url.Values) (string, *oauthError) {
	aud := s.opts.DefaultResource
	if v.Has("resource") {
		res := v.Get("resource")
		u, err := url.Parse(res)
		if err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
			return "", fail(400, "invalid_target", "resource %q must be an absolute URI without a fragment (RFC 8707)", res)
		}
		aud = res
	}
	if aud == "" {
		return "", fail(400, "invalid_target", "the resource parameter is required: it names the server the token is for (RFC 8707)")
	}
	return aud, nil
}
