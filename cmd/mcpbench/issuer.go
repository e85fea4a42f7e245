package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mcpbench/mcpbench/bench/oauth"
)

// asMetadata is the part of RFC 8414 metadata the servers use.
type asMetadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	Introspection string `json:"introspection_endpoint"`
}

// issuerMetadata fetches an authorization server's RFC 8414 metadata.
func issuerMetadata(ctx context.Context, issuer string) (*asMetadata, error) {
	if _, err := url.Parse(issuer); err != nil {
		return nil, err
	}
	wk := oauth.WellKnownURL(issuer, "oauth-authorization-server")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", wk, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d", wk, resp.StatusCode)
	}
	var m asMetadata
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}
