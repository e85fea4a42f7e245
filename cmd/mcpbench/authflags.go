package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/spf13/pflag"
)

// authFlags are the token-validation flags every protected server takes.
type authFlags struct {
	mode, issuer, audience, secret, introspector string
	dpop                                         string
	dpopNonce                                    time.Duration
	cache                                        bool
	cacheSize                                    int
	modes                                        []string
}

func (a *authFlags) register(fs *pflag.FlagSet, modes ...string) {
	a.modes = append([]string{"none"}, modes...)
	fs.StringVar(&a.mode, "auth", "none", "token validation: "+strings.Join(a.modes, ", "))
	fs.StringVar(&a.issuer, "issuer", "", "jwt/introspect: the authorization server's URL (iss; its metadata gives the JWKS and introspection endpoints)")
	fs.StringVar(&a.audience, "audience", "", "jwt/introspect: this resource's URL, the audience tokens must name (default: the URL served)")
	fs.StringVar(&a.secret, "hmac-secret", "", "jwt with HS256: the shared key in hex, as given to the authorization server"+secretHelp)
	fs.StringVar(&a.introspector, "introspect-client", "", "introspect: this server's client credentials at the authorization server, ID:SECRET"+secretHelp)
	fs.BoolVar(&a.cache, "auth-cache", false, "cache verified tokens (keyed by SHA-256, until expiry, at most 5 min)")
	fs.IntVar(&a.cacheSize, "auth-cache-size", 10000, "most tokens the cache holds")
	fs.DurationVar(&a.dpopNonce, "dpop-nonce", 0, "--dpop: ask for a server nonce in every proof (RFC 9449 §9), a new one this often (e.g. 5m); 0: none")
	fs.StringVar(&a.dpop, "dpop", "", "jwt/introspect: DPoP-bound tokens (RFC 9449): required (only them, each with its proof), or allowed (bearer tokens too, if not bound)")
}

// check validates the flags before anything starts.
func (a *authFlags) check() error {
	ok := false
	for _, m := range a.modes {
		ok = ok || m == a.mode
	}
	if !ok {
		return fmt.Errorf("--auth is one of %s, not %q", strings.Join(a.modes, ", "), a.mode)
	}
	if a.mode != "jwt" && a.mode != "introspect" {
		if a.issuer != "" || a.cache || a.dpop != "" {
			return fmt.Errorf("--issuer, --auth-cache and --dpop need --auth jwt or introspect")
		}
		return nil
	}
	if a.dpopNonce != 0 && (a.dpop == "" || a.dpopNonce < time.Second) {
		return fmt.Errorf("--dpop-nonce needs --dpop, and a period of a second or more")
	}
	if a.dpop != "" && a.dpop != auth.DPoPRequired && a.dpop != auth.DPoPAllowed {
		return fmt.Errorf("--dpop is %s or %s, not %q", auth.DPoPRequired, auth.DPoPAllowed, a.dpop)
	}
	if a.issuer == "" {
		return fmt.Errorf("--auth %s needs --issuer URL", a.mode)
	}
	if a.mode == "introspect" {
		if a.introspector == "" {
			return fmt.Errorf("--auth introspect needs --introspect-client ID:SECRET")
		}
		id, sec, err := readCredentials("introspect-client", a.introspector)
		if err != nil {
			return err
		}
		a.introspector = id + ":" + sec
	}
	if a.secret != "" {
		var err error
		if a.secret, err = readSecret("hmac-secret", a.secret); err != nil {
			return err
		}
		if b, err := hex.DecodeString(a.secret); err != nil || len(b) < 32 {
			return fmt.Errorf("--hmac-secret must be at least 32 bytes in hex")
		}
	}
	if a.cacheSize < 1 {
		return fmt.Errorf("--auth-cache-size must be positive")
	}
	return nil
}

// verifier builds the configured verifier for resource (the URL served,
// unless --audience says otherwise); nil for --auth none. ctx ends JWKS
// refreshes.
func (a *authFlags) verifier(ctx context.Context, resource string) (auth.Verifier, string, error) {
	if a.mode != "jwt" && a.mode != "introspect" {
		return nil, resource, nil
	}
	aud := resource
	if a.audience != "" {
		aud = a.audience
	}
	iss := strings.TrimSuffix(a.issuer, "/")
	var v auth.Verifier
	var err error
	if a.mode == "jwt" {
		cfg := auth.JWTConfig{Issuer: iss, Audience: aud}
		if a.secret != "" {
			cfg.HMACSecret, _ = hex.DecodeString(a.secret)
		} else {
			cfg.JWKSURL = iss + "/jwks.json"
			if meta, merr := issuerMetadata(ctx, iss); merr == nil && meta.JWKSURI != "" {
				cfg.JWKSURL = meta.JWKSURI
			}
		}
		v, err = auth.NewJWT(ctx, cfg)
	} else {
		id, sec, _ := strings.Cut(a.introspector, ":")
		endpoint := iss + "/introspect"
		if meta, merr := issuerMetadata(ctx, iss); merr == nil && meta.Introspection != "" {
			endpoint = meta.Introspection
		}
		v, err = auth.NewIntrospection(auth.IntrospectionConfig{URL: endpoint, ClientID: id, ClientSecret: sec, Issuer: iss, Audience: aud})
	}
	if err != nil {
		return nil, aud, err
	}
	if a.cache {
		v = auth.Cached(v, auth.CacheConfig{Size: a.cacheSize, MaxAge: 5 * time.Minute})
	}
	if a.dpop != "" {
		// Around the cache: the token's check may be cached, each
		// request's proof is checked afresh.
		if v, err = auth.NewDPoP(v, auth.DPoPConfig{Mode: a.dpop, Nonce: a.dpopNonce}); err != nil {
			return nil, aud, err
		}
	}
	return v, aud, nil
}
