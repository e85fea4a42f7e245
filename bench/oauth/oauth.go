// Package oauth is the harness's OAuth client: it finds a protected
// resource's authorization server the way the MCP authorization spec says
// and hands out access tokens for the drivers to send.
package oauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/internal/jwtkey"
)

// Config configures the harness's OAuth client: a machine-to-machine
// client that finds its authorization server the way the MCP authorization
// spec says (a 401's WWW-Authenticate → RFC 9728 protected-resource
// metadata → RFC 8414 authorization-server metadata) and gets tokens by
// client credentials with the RFC 8707 resource parameter.
type Config struct {
	// Resource is the protected endpoint, e.g. http://127.0.0.1:8080/mcp.
	Resource string
	// ClientID and ClientSecret are this client's credentials.
	ClientID, ClientSecret string
	// ClientKey, instead of a secret, signs a JWT assertion for each
	// token request (RFC 7523, private_key_jwt): ECDSA P-256, RSA or
	// Ed25519, the algorithm following from the key.
	ClientKey crypto.Signer
	// AuthMethod is client_secret_basic (default with a secret),
	// client_secret_post, or private_key_jwt (default with a key).
	AuthMethod string
	// Scopes to ask for; nil means what the resource's metadata lists.
	Scopes []string
	// FreshTokens, when positive, makes Token hand out a new token for
	// every call, so that a server's verified-token cache cannot flatter a
	// result: each Prepare tops the pool up to this many (tokens left from
	// an earlier Prepare are kept). When they run out, Token fetches one on
	// the spot and counts the miss (Stats): that call's latency then holds
	// a token request, so size the pool for a run's calls.
	FreshTokens int
	// TokenEndpoint, when set, skips discovery: for resources that do not
	// publish RFC 9728 metadata (a gateway such as HAProxy), given with
	// Issuer. Resource is then the resource parameter as is.
	TokenEndpoint string
	// Issuer is the authorization server, when TokenEndpoint is given.
	Issuer string
	// TokenRequest, when set, is applied to each token request after the
	// client's own authentication: the hook through which a
	// sender-constrained token's proof (DPoP, RFC 9449) reaches the
	// authorization server.
	TokenRequest driver.Authorizer
	// TokenType is the token type the client asks for and accepts:
	// "Bearer" (the default), or "DPoP" with a DPoP TokenRequest.
	TokenType string
	// Grant is how tokens are got: client_credentials (the default), or
	// authorization_code, the flow with PKCE (S256) that MCP clients use,
	// for authorization servers that approve without a person (test and
	// conformance servers): the authorization response's redirect is read,
	// not followed, its state and iss (RFC 9207) checked, and its code
	// exchanged at once. With no ClientID, the client registers itself
	// (RFC 7591) when the server offers registration; with no secret or
	// key it is a public client (token_endpoint_auth_method none).
	Grant string
	// RedirectURI is where the authorization response is sent, for
	// authorization_code; default http://127.0.0.1/callback (never served:
	// the client reads the redirect itself).
	RedirectURI string
	// Client makes the requests; nil means one with a 10s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// tokenType is the token type the client accepts.
func (o *Client) tokenType() string {
	if o.cfg.TokenType == "" {
		return "Bearer"
	}
	return o.cfg.TokenType
}

// ErrFlow marks a failure of discovery or of the token endpoint.
var ErrFlow = errors.New("oauth")

// Client gets and keeps access tokens. Token is safe for concurrent use.
type Client struct {
	cfg     Config
	signing jwt.SigningMethod // of the client key, for private_key_jwt

	// Found by discovery.
	ResourceID    string // the protected resource's identifier (RFC 9728 "resource")
	Issuer        string
	TokenEndpoint string
	JWKSURI       string
	as            asMetadata // the rest of the authorization server's metadata

	mu         sync.Mutex
	token      string
	expires    time.Time
	issued     time.Time
	refreshing bool

	pool    chan string
	misses  int64
	fetched int64
	phases  map[string]time.Duration
}

// New checks cfg; nothing is fetched until Prepare.
func New(cfg Config) (*Client, error) {
	switch cfg.Grant {
	case "":
		cfg.Grant = GrantClientCredentials
	case GrantClientCredentials, GrantAuthorizationCode:
	default:
		return nil, fmt.Errorf("%w: OAuth grant %q: %s or %s", bench.ErrConfig, cfg.Grant, GrantClientCredentials, GrantAuthorizationCode)
	}
	if cfg.Resource == "" || cfg.ClientID == "" && cfg.Grant != GrantAuthorizationCode {
		return nil, fmt.Errorf("%w: the OAuth client needs Resource and ClientID", bench.ErrConfig)
	}
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = "http://127.0.0.1/callback"
	}
	switch {
	case cfg.AuthMethod == "" && cfg.Grant == GrantAuthorizationCode && cfg.ClientKey == nil && cfg.ClientSecret == "":
		cfg.AuthMethod = "none"
	case cfg.AuthMethod == "none" && (cfg.Grant != GrantAuthorizationCode || cfg.ClientKey != nil || cfg.ClientSecret != ""):
		return nil, fmt.Errorf("%w: OAuth AuthMethod none is for a public client of the authorization-code flow, without secret or key", bench.ErrConfig)
	case cfg.AuthMethod == "" && cfg.ClientKey != nil:
		cfg.AuthMethod = "private_key_jwt"
	case cfg.AuthMethod == "":
		cfg.AuthMethod = "client_secret_basic"
	}
	var signing jwt.SigningMethod
	switch cfg.AuthMethod {
	case "none":
	case "client_secret_basic", "client_secret_post":
		if cfg.ClientKey != nil {
			return nil, fmt.Errorf("%w: OAuth AuthMethod %s takes a secret, not a key", bench.ErrConfig, cfg.AuthMethod)
		}
	case "private_key_jwt":
		if cfg.ClientKey == nil || cfg.ClientSecret != "" {
			return nil, fmt.Errorf("%w: OAuth private_key_jwt needs ClientKey and no secret", bench.ErrConfig)
		}
		var err error
		if signing, err = jwtkey.Method(cfg.ClientKey); err != nil {
			return nil, fmt.Errorf("%w: OAuth client key: %v", bench.ErrConfig, err)
		}
	default:
		return nil, fmt.Errorf("%w: OAuth AuthMethod %q: client_secret_basic, client_secret_post or private_key_jwt", bench.ErrConfig, cfg.AuthMethod)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, signing: signing}, nil
}

// Prepare runs the cold path and times each step: discovery (the 401, the
// resource metadata, the authorization-server metadata), the first token,
// a JWKS fetch when the issuer publishes one, and the fresh-token pool.
func (o *Client) Prepare(ctx context.Context) error {
	o.phases = map[string]time.Duration{} // this Prepare's own: an earlier one's map may be in a result
	t := time.Now()
	if o.cfg.TokenEndpoint != "" {
		o.ResourceID, o.TokenEndpoint, o.Issuer = o.cfg.Resource, o.cfg.TokenEndpoint, o.cfg.Issuer
	} else {
		if err := o.discover(ctx); err != nil {
			return err
		}
		o.phases["oauth_discovery"] = time.Since(t)
	}
	t = time.Now()
	tok, exp, err := o.fetch(ctx)
	if err != nil {
		return err
	}
	o.phases["oauth_token"] = time.Since(t)
	o.mu.Lock()
	o.token, o.expires, o.issued = tok, exp, o.cfg.Now()
	o.mu.Unlock()
	if o.JWKSURI != "" {
		// What a resource server's first fetch of the keys costs; the
		// client needs no keys, so one it cannot fetch is only not timed.
		t = time.Now()
		if err := o.get(ctx, o.JWKSURI, &json.RawMessage{}); err == nil {
			o.phases["oauth_jwks_fetch"] = time.Since(t)
		}
	}
	if n := o.cfg.FreshTokens; n > 0 {
		t = time.Now()
		if err := o.fill(ctx, n); err != nil {
			return err
		}
		o.phases["oauth_fresh_tokens"] = time.Since(t)
	}
	return nil
}

// SetupPhases reports how long each step of the last Prepare took, in a
// map of the caller's own.
func (o *Client) SetupPhases() map[string]time.Duration { return maps.Clone(o.phases) }

// discover finds the token endpoint, starting from the resource's 401.
func (o *Client) discover(ctx context.Context) error {
	body := []byte(`{"jsonrpc":"2.0","id":0,"method":"ping"}`)
	req, err := http.NewRequestWithContext(ctx, "POST", o.cfg.Resource, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFlow, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: asking %s: %v", ErrFlow, o.cfg.Resource, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("%w: %s answered %d without a token, not 401: it does not ask for OAuth", ErrFlow, o.cfg.Resource, resp.StatusCode)
	}
	params := ParseChallenge(resp.Header.Values("WWW-Authenticate"))
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported"`
	}
	metaURL := params["resource_metadata"]
	if metaURL != "" {
		if err := o.get(ctx, metaURL, &prm); err != nil {
			return fmt.Errorf("%w: protected-resource metadata: %v", ErrFlow, err)
		}
	} else {
		// RFC 9728 section 3.1: the well-known location, below the
		// resource's path, then at the root (the MCP spec's order).
		u, _ := url.Parse(o.cfg.Resource)
		root := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"
		metaURL = root + strings.TrimSuffix(u.EscapedPath(), "/")
		if err := o.get(ctx, metaURL, &prm); err != nil {
			if metaURL == root {
				return fmt.Errorf("%w: protected-resource metadata: %v", ErrFlow, err)
			}
			metaURL = root
			if err2 := o.get(ctx, metaURL, &prm); err2 != nil {
				return fmt.Errorf("%w: protected-resource metadata: %v; %v", ErrFlow, err, err2)
			}
		}
	}
	if !sameResource(prm.Resource, o.cfg.Resource) {
		return fmt.Errorf("%w: the metadata at %s is for %q, not %q (RFC 9728 3.3: the same URL, or one it is under)", ErrFlow, metaURL, prm.Resource, o.cfg.Resource)
	}
	if len(prm.AuthorizationServers) == 0 {
		return fmt.Errorf("%w: the metadata at %s names no authorization server", ErrFlow, metaURL)
	}
	o.ResourceID = prm.Resource
	if o.cfg.Scopes == nil {
		if s := params["scope"]; s != "" {
			o.cfg.Scopes = strings.Fields(s)
		} else {
			o.cfg.Scopes = prm.Scopes
		}
	}
	issuer := strings.TrimSuffix(prm.AuthorizationServers[0], "/")
	var asm asMetadata
	// RFC 8414, then OpenID Connect discovery, in the MCP spec's order; an
	// issuer with a path has OpenID's path-appended form as the last.
	urls := []string{WellKnownURL(issuer, "oauth-authorization-server"), WellKnownURL(issuer, "openid-configuration")}
	if u, perr := url.Parse(issuer); perr == nil && strings.Trim(u.Path, "/") != "" {
		urls = append(urls, issuer+"/.well-known/openid-configuration")
	}
	var errs []string
	for _, mu := range urls {
		if err = o.get(ctx, mu, &asm); err == nil {
			break
		}
		errs = append(errs, err.Error())
	}
	if err != nil {
		return fmt.Errorf("%w: authorization-server metadata of %s: %s", ErrFlow, issuer, strings.Join(errs, "; "))
	}
	if strings.TrimSuffix(asm.Issuer, "/") != issuer {
		return fmt.Errorf("%w: metadata of %s names issuer %q (RFC 8414 3.3)", ErrFlow, issuer, asm.Issuer)
	}
	if asm.TokenEndpoint == "" {
		return fmt.Errorf("%w: %s has no token endpoint", ErrFlow, issuer)
	}
	o.Issuer, o.TokenEndpoint, o.JWKSURI, o.as = issuer, asm.TokenEndpoint, asm.JWKSURI, asm
	return nil
}

// WellKnownURL is RFC 8414's metadata URL: the well-known segment goes
// between the host and the issuer's path.
func WellKnownURL(issuer, name string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer + "/.well-known/" + name
	}
	return u.Scheme + "://" + u.Host + "/.well-known/" + name + strings.TrimSuffix(u.EscapedPath(), "/")
}

// sameResource says whether the metadata's resource covers the URL called:
// the same URL, or the same origin with a parent path at a "/" boundary
// (a gateway protecting /tools answers for /tools/echo). RFC 9728 3.3 asks
// for identity; a resource whose calls go to paths under it cannot meet
// that, and the token is asked for the metadata's resource either way.
func sameResource(resource, called string) bool {
	resource, called = strings.TrimSuffix(resource, "/"), strings.TrimSuffix(called, "/")
	if resource == called {
		return true
	}
	r, err1 := url.Parse(resource)
	c, err2 := url.Parse(called)
	if err1 != nil || err2 != nil || r.Scheme != c.Scheme || r.Host != c.Host || r.RawQuery != "" || r.Fragment != "" {
		return false
	}
	return strings.HasPrefix(c.EscapedPath(), r.EscapedPath()+"/")
}

func (o *Client) get(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %v", u, err)
	}
	return nil
}

// fetch asks the token endpoint for one token: by client credentials, or
// with a code the authorization endpoint gives for this token. An
// authorization server that asks for a DPoP nonce (400 use_dpop_nonce) is
// asked once more with it.
func (o *Client) fetch(ctx context.Context) (string, time.Time, error) {
	f := url.Values{"grant_type": {o.cfg.Grant}, "resource": {o.ResourceID}}
	if o.cfg.Grant == GrantAuthorizationCode {
		code, verifier, err := o.authorize(ctx)
		if err != nil {
			return "", time.Time{}, err
		}
		f.Set("code", code)
		f.Set("code_verifier", verifier)
		f.Set("redirect_uri", o.cfg.RedirectURI)
	} else if len(o.cfg.Scopes) > 0 {
		f.Set("scope", strings.Join(o.cfg.Scopes, " "))
	}
	switch o.cfg.AuthMethod {
	case "none":
		f.Set("client_id", o.cfg.ClientID)
	case "client_secret_post":
		f.Set("client_id", o.cfg.ClientID)
		f.Set("client_secret", o.cfg.ClientSecret)
	case "private_key_jwt":
		a, err := o.assertion()
		if err != nil {
			return "", time.Time{}, fmt.Errorf("%w: client assertion: %v", ErrFlow, err)
		}
		f.Set("client_id", o.cfg.ClientID)
		f.Set("client_assertion_type", AssertionType)
		f.Set("client_assertion", a)
	}
	tok, exp, nonce, err := o.tokenRequest(ctx, f)
	if nonce != "" && driver.TakeNonce(o.cfg.TokenRequest, []byte(nonce)) {
		tok, exp, _, err = o.tokenRequest(ctx, f)
	}
	return tok, exp, err
}

// tokenRequest posts one token request of form f. When the server asks
// for a DPoP nonce it returns that nonce with the error.
func (o *Client) tokenRequest(ctx context.Context, f url.Values) (tok string, exp time.Time, nonce string, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", o.TokenEndpoint, strings.NewReader(f.Encode()))
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("%w: %v", ErrFlow, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.cfg.AuthMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(o.cfg.ClientID), url.QueryEscape(o.cfg.ClientSecret))
	}
	if o.cfg.TokenRequest != nil {
		if err := o.cfg.TokenRequest.Authorize(ctx, driver.Std(req)); err != nil {
			return "", time.Time{}, "", fmt.Errorf("%w: token request: %v", ErrFlow, err)
		}
	}
	now := o.cfg.Now()
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("%w: token endpoint: %v", ErrFlow, err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(b, &tr); err != nil {
		return "", time.Time{}, "", fmt.Errorf("%w: token endpoint answered %d: %.200s", ErrFlow, resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		if tr.Error == "use_dpop_nonce" {
			nonce = resp.Header.Get("DPoP-Nonce")
		}
		return "", time.Time{}, nonce, fmt.Errorf("%w: token endpoint answered %d %s: %s", ErrFlow, resp.StatusCode, tr.Error, tr.Description)
	}
	if want := o.tokenType(); !strings.EqualFold(tr.TokenType, want) {
		return "", time.Time{}, "", fmt.Errorf("%w: token type %q, not %s", ErrFlow, tr.TokenType, want)
	}
	if tr.ExpiresIn > 0 {
		exp = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	o.mu.Lock()
	o.fetched++
	o.mu.Unlock()
	return tr.AccessToken, exp, "", nil
}

// fill tops the pool up to n tokens, a few requests at a time.
func (o *Client) fill(ctx context.Context, n int) error {
	if o.pool == nil || cap(o.pool) < n {
		old := o.pool
		o.pool = make(chan string, n)
		for old != nil && len(old) > 0 {
			o.pool <- <-old
		}
	}
	n -= len(o.pool)
	if n <= 0 {
		return nil
	}
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				tok, _, err := o.fetch(ctx)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
				o.pool <- tok
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Token returns the token for the next call: a fresh one from the pool
// when FreshTokens is set, else the shared one. A shared token is
// refreshed in the background once 80% of its lifetime has passed, so that
// no call waits for it or fails for it; only an expired token is fetched
// on the spot.
func (o *Client) Token(ctx context.Context) (string, error) {
	if o.pool != nil {
		select {
		case t := <-o.pool:
			return t, nil
		default:
			o.mu.Lock()
			o.misses++
			o.mu.Unlock()
			t, _, err := o.fetch(ctx)
			return t, err
		}
	}
	now := o.cfg.Now()
	o.mu.Lock()
	tok, exp, issued := o.token, o.expires, o.issued
	if !exp.IsZero() && !now.Before(exp) {
		o.mu.Unlock()
		t, e, err := o.fetch(ctx)
		if err != nil {
			return "", err
		}
		o.mu.Lock()
		o.token, o.expires, o.issued = t, e, o.cfg.Now()
		o.mu.Unlock()
		return t, nil
	}
	if !exp.IsZero() && !o.refreshing && now.After(issued.Add(exp.Sub(issued)*8/10)) {
		o.refreshing = true
		go o.refresh()
	}
	o.mu.Unlock()
	return tok, nil
}

func (o *Client) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t, e, err := o.fetch(ctx)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refreshing = false
	if err == nil {
		o.token, o.expires, o.issued = t, e, o.cfg.Now()
	}
}

// Stats says how many tokens were fetched, and how many calls found the
// fresh-token pool empty.
func (o *Client) Stats() (fetched, poolMisses int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fetched, o.misses
}

// ParseChallenge reads the auth-params of Bearer and DPoP challenges (a
// DPoP resource names its RFC 9728 metadata the same way) in
// WWW-Authenticate values (RFC 9110 11.6.1): name=token or
// name="quoted string", comma separated.
func ParseChallenge(values []string) map[string]string {
	params := map[string]string{}
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
			continue
		}
		for rest = strings.TrimSpace(rest); rest != ""; {
			name, after, ok := strings.Cut(rest, "=")
			if !ok {
				break
			}
			name = strings.ToLower(strings.TrimSpace(name))
			after = strings.TrimLeft(after, " ")
			var val string
			if strings.HasPrefix(after, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(after) && after[i] != '"'; i++ {
					if after[i] == '\\' && i+1 < len(after) {
						i++
					}
					b.WriteByte(after[i])
				}
				val, rest = b.String(), after[min(i+1, len(after)):]
			} else {
				val, rest, _ = strings.Cut(after, ",")
				val = strings.TrimSpace(val)
				rest = "," + rest
			}
			params[name] = val
			rest = strings.TrimLeft(strings.TrimSpace(rest), ",")
			rest = strings.TrimSpace(rest)
		}
	}
	return params
}

// AssertionType is the client_assertion_type of a JWT assertion (RFC 7523).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertion is a fresh JWT that authenticates this client to the token
// endpoint: iss and sub the client id, aud the authorization server's
// issuer (as the MCP client-credentials extension says), a minute's life
// and a unique jti. Its signing is part of each token's cost.
func (o *Client) assertion() (string, error) {
	now := o.cfg.Now()
	var jti [16]byte
	rand.Read(jti[:])
	return jwt.NewWithClaims(o.signing, jwt.RegisteredClaims{
		Issuer: o.cfg.ClientID, Subject: o.cfg.ClientID, Audience: jwt.ClaimStrings{o.Issuer},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		ID: base64.RawURLEncoding.EncodeToString(jti[:]),
	}).SignedString(o.cfg.ClientKey)
}
