package authserver

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/internal/dpop"
	"github.com/mcpbench/mcpbench/servers/auth"
)

// postDPoP is a client-credentials token request with a DPoP header.
func postDPoP(t *testing.T, u, proof string) reply {
	t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}, "resource": {"http://127.0.0.1:1/mcp"}}
	req, _ := http.NewRequest("POST", u, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bench", "s3cret")
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readReply(resp)
}

// TestDPoPBoundTokens: a token request with a valid proof gets a DPoP
// token bound to the proof's key, which a DPoP resource accepts with a
// proof by that key; a bad or replayed proof gets invalid_dpop_proof.
func TestDPoPBoundTokens(t *testing.T) {
	s, hs, _ := newServer(t, Options{Alg: "ES256"})
	if algs, _ := s.Metadata()["dpop_signing_alg_values_supported"].([]string); len(algs) == 0 {
		t.Errorf("metadata does not advertise DPoP: %v", s.Metadata())
	}
	k, err := dpop.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := hs.URL + "/token"
	proof, _ := k.Proof("POST", tokenURL, "", "")
	r := postDPoP(t, tokenURL, proof)
	tok, _ := r.body["access_token"].(string)
	if r.status != 200 || r.body["token_type"] != "DPoP" || tok == "" {
		t.Fatalf("token request with a proof: %d %v", r.status, r.body)
	}
	if r := postDPoP(t, tokenURL, proof); r.status != 400 || r.body["error"] != "invalid_dpop_proof" {
		t.Errorf("replayed proof: %d %v", r.status, r.body)
	}
	wrong, _ := k.Proof("GET", tokenURL, "", "")
	if r := postDPoP(t, tokenURL, wrong); r.status != 400 || r.body["error"] != "invalid_dpop_proof" {
		t.Errorf("proof for GET: %d %v", r.status, r.body)
	}
	// The resource side: the token is bound to k.
	jv, err := auth.NewJWT(context.Background(), auth.JWTConfig{Issuer: s.Issuer(), Audience: "http://127.0.0.1:1/mcp", JWKSURL: hs.URL + "/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewDPoP(jv, auth.DPoPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	call, _ := k.Proof("POST", "http://127.0.0.1:1/mcp", tok, "")
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/mcp", nil)
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("DPoP", call)
	info, err := v.Verify(context.Background(), tok, auth.HTTPRequest(req))
	if err != nil || info.JKT != k.Thumbprint() {
		t.Errorf("the bound token with its proof: %v (%+v)", err, info)
	}
}
