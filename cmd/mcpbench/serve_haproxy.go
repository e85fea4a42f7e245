package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/mcpbench/mcpbench/servers/gateway"
)

// haproxySpec runs HAProxy 2.6 as the gateway, a child of this process:
// the configuration is written to a private temporary directory, HAProxy
// binds the address this command was given, and it stops with us.
func haproxySpec(upstream string, keys []string, rateLimit float64, af *authFlags) (serveSpec, error) {
	switch af.mode {
	case "none", "apikey", "jwt":
	default:
		return serveSpec{}, fmt.Errorf("HAProxy takes --auth none, apikey or jwt (it cannot introspect)")
	}
	if af.mode == "jwt" && (af.secret != "" || af.cache) {
		return serveSpec{}, fmt.Errorf("HAProxy verifies RS256 or ES256 with the issuer's public key: no --hmac-secret, no --auth-cache")
	}
	if rateLimit < 1 || rateLimit != float64(int(rateLimit)) {
		return serveSpec{}, fmt.Errorf("HAProxy counts whole requests per second: --rate-limit must be a whole number, at least 1 (not %g)", rateLimit)
	}
	if _, err := gateway.HAProxyVersion(); err != nil {
		return serveSpec{}, fmt.Errorf("HAProxy is not installed (make tools-haproxy installs it): %v", err)
	}
	return serveSpec{
		launch: func(ctx context.Context, ln net.Listener, base string, tlsCfg *tls.Config) (func() error, error) {
			addr := ln.Addr().String()
			resource := base + "/tools"
			dir, err := os.MkdirTemp("", "mcpbench-haproxy-")
			if err != nil {
				return nil, err
			}
			fail := func(err error) (func() error, error) {
				os.RemoveAll(dir)
				return nil, err
			}
			cfg := gateway.HAProxyConfig{Listen: addr, Upstream: upstream, Auth: af.mode, APIKeys: keys, RateLimit: int(rateLimit), Dir: dir}
			if tlsCfg != nil { // HAProxy terminates TLS itself, with OpenSSL
				if cfg.TLSPEM, err = pemBundle(tlsCfg.Certificates[0]); err != nil {
					return fail(err)
				}
			}
			if af.mode == "jwt" {
				alg, pemKey, err := issuerKey(ctx, af.issuer)
				if err != nil {
					return fail(err)
				}
				aud := resource
				if af.audience != "" {
					aud = af.audience
				}
				cfg.Alg, cfg.PublicKeyPEM, cfg.Issuer, cfg.Audience, cfg.Scope = alg, pemKey, af.issuer, aud, "tools:call"
			}
			ln.Close() // HAProxy binds the address itself
			h, err := gateway.StartHAProxy(ctx, cfg)
			if err != nil {
				return fail(err)
			}
			return func() error {
				defer os.RemoveAll(dir)
				<-ctx.Done()
				return h.Stop()
			}, nil
		},
		path: "/tools",
	}, nil
}

// issuerKey fetches the issuer's current signing key from its JWKS, as a
// PEM public key, and its algorithm. HAProxy 2.6 holds one key and cannot
// fetch a key set: a rotation needs a restart.
func issuerKey(ctx context.Context, issuer string) (alg string, pemKey []byte, err error) {
	meta, err := issuerMetadata(ctx, issuer)
	if err != nil {
		return "", nil, fmt.Errorf("issuer metadata: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", meta.JWKSURI, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return "", nil, fmt.Errorf("JWKS at %s: %v", meta.JWKSURI, err)
	}
	keys, err := set.JWKSlice()
	if err != nil || len(keys) == 0 {
		return "", nil, fmt.Errorf("JWKS at %s holds no usable key (%v); HAProxy needs RS256 or ES256", meta.JWKSURI, err)
	}
	k := keys[0] // the issuer lists its current key first
	alg = string(k.Marshal().ALG)
	if alg != "RS256" && alg != "ES256" {
		return "", nil, fmt.Errorf("the issuer signs with %s; HAProxy's jwt_verify here takes RS256 or ES256", alg)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Key())
	if err != nil {
		return "", nil, err
	}
	return alg, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
