package authserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// noFollow is a client that returns a redirect instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize makes an authorization request and returns the redirect's
// query, or the status when there is no redirect.
func authorize(t *testing.T, base string, q url.Values) (url.Values, int) {
	t.Helper()
	resp, err := noFollow.Get(base + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, resp.StatusCode
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Host != "127.0.0.1:9" || u.Path != "/callback" {
		t.Fatalf("redirect to %q", resp.Header.Get("Location"))
	}
	return u.Query(), resp.StatusCode
}

// TestAuthorizationCode: the grant with PKCE, end to end, and each way it
// must refuse: an untrusted client or redirect (400, no redirect), a
// missing or plain challenge, a wrong verifier, another client, a reused
// code, another redirect URI.
func TestAuthorizationCode(t *testing.T) {
	s, hs, _ := newServer(t, Options{})
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://127.0.0.1:9/callback"
	req := func(kv ...string) url.Values {
		q := url.Values{"response_type": {"code"}, "client_id": {"bench"}, "redirect_uri": {redirect},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"xyz"}, "resource": {resource}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q
	}
	exchange := func(code, client, secret, verifier, redirect string) (int, map[string]any) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
		r, _ := http.NewRequest("POST", hs.URL+"/token", strings.NewReader(f.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(client, secret)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("token response Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
		return resp.StatusCode, body
	}

	q, _ := authorize(t, hs.URL, req())
	if q.Get("state") != "xyz" || q.Get("iss") != s.Issuer() || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	code := q.Get("code")
	if st, body := exchange(code, "bench", "s3cret", verifier, redirect); st != 200 || body["token_type"] != "Bearer" {
		t.Fatalf("exchange: %d %v", st, body)
	} else if c := s.lookup(body["access_token"].(string)); c == nil || c.Audience[0] != resource || c.ClientID != "bench" {
		t.Errorf("token claims %+v", c)
	}
	if st, body := exchange(code, "bench", "s3cret", verifier, redirect); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("reused code: %d %v", st, body)
	}

	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"unknown client", req("client_id", "nobody")},
		{"redirect off the machine", req("redirect_uri", "http://evil.example/callback")},
		{"https redirect", req("redirect_uri", "https://127.0.0.1:9/callback")},
	} {
		if q, st := authorize(t, hs.URL, tc.q); st != 400 {
			t.Errorf("%s: redirected (%v), want 400", tc.name, q)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"no challenge", "invalid_request"},
		{"plain challenge", "invalid_request"},
		{"token response type", "unsupported_response_type"},
		{"unknown scope", "invalid_scope"},
	} {
		q := map[string]url.Values{
			"no challenge":        req("code_challenge", ""),
			"plain challenge":     req("code_challenge_method", "plain"),
			"token response type": req("response_type", "token"),
			"unknown scope":       req("scope", "admin"),
		}[tc.name]
		if got, _ := authorize(t, hs.URL, q); got.Get("error") != tc.want || got.Get("code") != "" || got.Get("state") != "xyz" {
			t.Errorf("%s: redirect query %v, want error %s", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct{ name, client, secret, verifier, redirect string }{
		{"wrong verifier", "bench", "s3cret", strings.Repeat("a", 43), redirect},
		{"another redirect", "bench", "s3cret", verifier, "http://127.0.0.1:9/other"},
		{"another client", "other", "pw", verifier, redirect},
	} {
		q, _ := authorize(t, hs.URL, req())
		if st, body := exchange(q.Get("code"), tc.client, tc.secret, tc.verifier, tc.redirect); st != 400 || body["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v", tc.name, st, body)
		}
	}
}
