package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/internal/dpop"
)

// codeServer is an authorization server of the authorization-code flow
// that approves at once, with a resource in front: how its answers go
// (iss, state, a DPoP nonce) is set per test.
type codeServer struct {
	*httptest.Server
	iss        string // "correct", "wrong", "omit"
	badState   bool
	nonce      string // the DPoP nonce the token endpoint asks for; "" none
	mu         sync.Mutex
	challenge  string
	tokenForms []url.Values
	proofs     []string
}

func newCodeServer(t *testing.T) *codeServer {
	s := &codeServer{iss: "correct"}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+s.URL+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(401)
	})
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": s.URL + "/mcp", "authorization_servers": []string{s.URL}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize", "token_endpoint": s.URL + "/token",
			"registration_endpoint": s.URL + "/register", "code_challenge_methods_supported": []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"}, "authorization_response_iss_parameter_supported": true})
	})
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"client_id": "registered"})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		s.challenge = q.Get("code_challenge")
		s.mu.Unlock()
		if q.Get("client_id") != "registered" || q.Get("code_challenge_method") != "S256" || q.Get("resource") != s.URL+"/mcp" {
			http.Error(w, "bad request", 400)
			return
		}
		to, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"code": {"the-code"}, "state": {q.Get("state")}}
		if s.badState {
			v.Set("state", "other")
		}
		switch s.iss {
		case "correct":
			v.Set("iss", s.URL)
		case "wrong":
			v.Set("iss", s.URL+"/")
		}
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		s.mu.Lock()
		s.tokenForms = append(s.tokenForms, r.PostForm)
		s.proofs = append(s.proofs, r.Header.Get("DPoP"))
		challenge := s.challenge
		s.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "the-code" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || r.PostForm.Get("client_id") != "registered" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		if s.nonce != "" {
			c := jwt.MapClaims{}
			jwt.NewParser().ParseUnverified(r.Header.Get("DPoP"), c)
			if c["nonce"] != s.nonce {
				w.Header().Set("DPoP-Nonce", s.nonce)
				w.WriteHeader(400)
				json.NewEncoder(w).Encode(map[string]string{"error": "use_dpop_nonce"})
				return
			}
		}
		typ := "Bearer"
		if r.Header.Get("DPoP") != "" {
			typ = "DPoP"
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": typ, "expires_in": 3600})
	})
	return s
}

// TestAuthorizationCode: with no client id, the client registers, asks
// for a code with PKCE S256, checks the response's state and iss (RFC
// 9207, as strings), and trades the code and its verifier for a token; an
// authorization server that asks for a DPoP nonce gets the request again
// with it.
func TestAuthorizationCode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		iss       string
		badState  bool
		nonce     string
		wantError string
	}{
		{name: "good", iss: "correct"},
		{name: "DPoP nonce", iss: "correct", nonce: "n-1"},
		{name: "iss normalized", iss: "wrong", wantError: "RFC 9207"},
		{name: "iss missing though advertised", iss: "omit", wantError: "RFC 9207"},
		{name: "state not the request's", iss: "correct", badState: true, wantError: "state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newCodeServer(t)
			s.iss, s.badState, s.nonce = tc.iss, tc.badState, tc.nonce
			cfg := Config{Resource: s.URL + "/mcp", Grant: GrantAuthorizationCode}
			var proof *driver.DPoP
			if tc.nonce != "" {
				key, err := dpop.NewKey("ES256")
				if err != nil {
					t.Fatal(err)
				}
				proof = &driver.DPoP{Key: key}
				cfg.TokenRequest, cfg.TokenType = proof, "DPoP"
			}
			o, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = o.Prepare(context.Background())
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("Prepare: %v, want an error about %s", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := o.Token(context.Background()); err != nil || tok != "tok" {
				t.Fatalf("token %q, %v", tok, err)
			}
			f := s.tokenForms[len(s.tokenForms)-1]
			if f.Get("grant_type") != GrantAuthorizationCode || f.Get("redirect_uri") != "http://127.0.0.1/callback" || f.Get("resource") != s.URL+"/mcp" {
				t.Errorf("token request %v", f)
			}
			if tc.nonce != "" && (len(s.tokenForms) != 2 || proof.Nonce() != tc.nonce) {
				t.Errorf("%d token requests, nonce %q: want 2, the second with %q", len(s.tokenForms), proof.Nonce(), tc.nonce)
			}
		})
	}
}
