package authserver

import (
	"crypto"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/internal/jwtkey"
)

// Client authentication by a signed JWT (RFC 7523 section 2.2,
// private_key_jwt), which the MCP client-credentials extension prefers to
// secrets. A client registers its public key (Options.ClientKeys); the
// algorithm follows from the key, never from the assertion.

// AssertionType is the client_assertion_type of a JWT assertion.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const (
	// maxAssertionLife bounds exp - now: an assertion is for one request,
	// and a long-lived one would have to be remembered (its jti) as long.
	maxAssertionLife = 5 * time.Minute
	// assertionLeeway is the clock skew allowed on exp, iat and nbf.
	assertionLeeway = 30 * time.Second
)

// jtiStore remembers the assertions seen until they expire, so that none
// is accepted twice.
type jtiStore struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	swept time.Time // the last sweep of expired entries
}

// first records key until exp and reports whether it was new.
func (j *jtiStore) first(key string, exp, now time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seen == nil {
		j.seen = map[string]time.Time{}
	}
	// Sweep at most once a second: a pool of fresh tokens is thousands of
	// assertions in a burst, each of which would otherwise walk them all.
	if now.Sub(j.swept) >= time.Second {
		for k, e := range j.seen {
			if now.After(e.Add(assertionLeeway)) {
				delete(j.seen, k)
			}
		}
		j.swept = now
	}
	if _, ok := j.seen[key]; ok {
		return false
	}
	j.seen[key] = exp
	return true
}

// assertedClient authenticates the client of a token request that
// carries a client_assertion: the assertion must be signed by the key the
// client registered, with the algorithm that key pins, name this server
// (its issuer, or its token endpoint) as audience and the client as iss
// and sub, expire within maxAssertionLife, and carry a jti not seen before.
func (s *Server) assertedClient(r *http.Request, f url.Values) (string, *oauthError) {
	if f.Get("client_assertion_type") != AssertionType {
		return "", fail(401, "invalid_client", "client_assertion_type must be %s", AssertionType)
	}
	if _, _, basic := r.BasicAuth(); basic || f.Has("client_secret") {
		return "", fail(400, "invalid_request", "use one client authentication method, not an assertion and a secret both")
	}
	raw := f.Get("client_assertion")
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return "", fail(401, "invalid_client", "client_assertion is not a JWT")
	}
	id := claims.Issuer
	if f.Has("client_id") && f.Get("client_id") != id {
		return "", fail(401, "invalid_client", "client_id differs from the assertion's iss")
	}
	key, ok := s.opts.ClientKeys[id]
	if !ok {
		return "", fail(401, "invalid_client", "unknown client, or no key registered for it")
	}
	method, err := jwtkey.Method(key)
	if err != nil {
		return "", fail(500, "server_error", "client %q: %v", id, err)
	}
	now := s.opts.Now()
	claims = jwt.RegisteredClaims{}
	_, err = jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{method.Alg()}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(assertionLeeway), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return "", fail(401, "invalid_client", "client assertion: %v", err)
	}
	switch {
	case claims.Subject != id:
		return "", fail(401, "invalid_client", "the assertion's sub must be its iss, the client id")
	case !s.forUs(claims.Audience):
		return "", fail(401, "invalid_client", "the assertion's aud must name this server (%s or its token endpoint)", s.opts.Issuer)
	case claims.ExpiresAt.Sub(now) > maxAssertionLife:
		return "", fail(401, "invalid_client", "the assertion expires more than %v from now", maxAssertionLife)
	case claims.ID == "":
		return "", fail(401, "invalid_client", "the assertion has no jti")
	case !s.jtis.first(id+"\x00"+claims.ID, claims.ExpiresAt.Time, now):
		return "", fail(401, "invalid_client", "the assertion was used before (jti replayed)")
	}
	return id, nil
}

// forUs reports whether aud names this server: its issuer (with or
// without a trailing slash) or its token endpoint.
func (s *Server) forUs(aud jwt.ClaimStrings) bool {
	iss := s.opts.Issuer
	return slices.ContainsFunc(aud, func(a string) bool { return a == iss || a == iss+"/" || a == iss+"/token" })
}

// publicKeys checks the registered client keys.
func publicKeys(keys map[string]crypto.PublicKey) error {
	for id, k := range keys {
		if _, err := jwtkey.Method(k); err != nil {
			return fmt.Errorf("client %q: %v", id, err)
		}
	}
	return nil
}
