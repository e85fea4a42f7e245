package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The grants the client can use.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
)

// asMetadata is what the client reads of an authorization server's
// metadata (RFC 8414).
type asMetadata struct {
	Issuer                string   `json:"issuer"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	// IssInResponse: the server puts iss in its authorization responses
	// (RFC 9207), so a response without it is refused.
	IssInResponse bool `json:"authorization_response_iss_parameter_supported"`
}

// register makes the client known to the authorization server by dynamic
// registration (RFC 7591), as a native client of the authorization-code
// flow: a public one when the server takes token_endpoint_auth_method
// none, else one with the secret the server gives, sent as the server
// takes it (client_secret_basic first).
func (o *Client) register(ctx context.Context) error {
	if o.as.RegistrationEndpoint == "" {
		return fmt.Errorf("%w: %s offers no dynamic client registration: give a client id", ErrFlow, o.Issuer)
	}
	method := "none"
	if ms := o.as.TokenAuthMethods; len(ms) > 0 && !slices.Contains(ms, "none") {
		method = "client_secret_basic"
		if !slices.Contains(ms, method) && slices.Contains(ms, "client_secret_post") {
			method = "client_secret_post"
		}
	}
	body, _ := json.Marshal(map[string]any{
		"client_name": "mcpbench", "redirect_uris": []string{o.cfg.RedirectURI}, "application_type": "native",
		"grant_types": []string{GrantAuthorizationCode}, "response_types": []string{"code"}, "token_endpoint_auth_method": method,
	})
	req, err := http.NewRequestWithContext(ctx, "POST", o.as.RegistrationEndpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFlow, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: client registration: %v", ErrFlow, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Method       string `json:"token_endpoint_auth_method"`
	}
	if resp.StatusCode/100 != 2 || json.Unmarshal(b, &r) != nil || r.ClientID == "" {
		return fmt.Errorf("%w: client registration answered %d: %.200s", ErrFlow, resp.StatusCode, b)
	}
	if r.Method != "" {
		method = r.Method
	}
	switch {
	case method == "none":
		o.cfg.ClientID, o.cfg.AuthMethod = r.ClientID, "none" // any secret it was given is not used
	case (method == "client_secret_basic" || method == "client_secret_post") && r.ClientSecret != "":
		o.cfg.ClientID, o.cfg.ClientSecret, o.cfg.AuthMethod = r.ClientID, r.ClientSecret, method
	default:
		return fmt.Errorf("%w: client registration gave token_endpoint_auth_method %q without what it needs", ErrFlow, method)
	}
	return nil
}

// authorize makes an authorization request with PKCE and returns the code
// from the authorization response, and the code verifier. The response is
// the redirect the authorization server answers with at once (it asks no
// person): read, not followed.
func (o *Client) authorize(ctx context.Context) (code, verifier string, err error) {
	if o.as.AuthorizationEndpoint == "" {
		return "", "", fmt.Errorf("%w: %s has no authorization endpoint", ErrFlow, o.Issuer)
	}
	if len(o.as.CodeChallengeMethods) > 0 && !slices.Contains(o.as.CodeChallengeMethods, "S256") {
		return "", "", fmt.Errorf("%w: %s does not take PKCE S256 (it lists %v)", ErrFlow, o.Issuer, o.as.CodeChallengeMethods)
	}
	if o.cfg.ClientID == "" {
		if err := o.register(ctx); err != nil {
			return "", "", err
		}
	}
	verifier, state := rand.Text()+rand.Text(), rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {o.cfg.ClientID}, "redirect_uri": {o.cfg.RedirectURI},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"state": {state}, "resource": {o.ResourceID},
	}
	if len(o.cfg.Scopes) > 0 {
		q.Set("scope", strings.Join(o.cfg.Scopes, " "))
	}
	u := o.as.AuthorizationEndpoint
	if strings.Contains(u, "?") {
		u += "&" + q.Encode()
	} else {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrFlow, err)
	}
	noFollow := *o.cfg.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%w: authorization request: %v", ErrFlow, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode/100 != 3 || err != nil {
		return "", "", fmt.Errorf("%w: the authorization endpoint answered %d, not a redirect with a code: it wants a person to approve", ErrFlow, resp.StatusCode)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != strings.SplitN(o.cfg.RedirectURI, "?", 2)[0] {
		return "", "", fmt.Errorf("%w: the authorization response went to %s, not the redirect URI %s", ErrFlow, loc.Redacted(), o.cfg.RedirectURI)
	}
	r := loc.Query()
	switch iss, has := r.Get("iss"), r.Has("iss"); {
	case r.Get("error") != "":
		return "", "", fmt.Errorf("%w: authorization refused: %s %s", ErrFlow, r.Get("error"), r.Get("error_description"))
	case r.Get("state") != state:
		return "", "", fmt.Errorf("%w: the authorization response's state is not the request's", ErrFlow)
	case has && iss != o.as.Issuer, !has && o.as.IssInResponse:
		// RFC 9207: compared as strings, with no normalization.
		return "", "", fmt.Errorf("%w: the authorization response's iss %q is not the issuer %q (RFC 9207): refused", ErrFlow, iss, o.as.Issuer)
	case r.Get("code") == "":
		return "", "", fmt.Errorf("%w: the authorization response carries no code", ErrFlow)
	}
	return r.Get("code"), verifier, nil
}
