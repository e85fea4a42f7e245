package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpbench/mcpbench/servers/auth"
)

// FuzzParseBearer: any header either yields a token of RFC 6750 token
// characters from a Bearer header, or a typed error; never a panic.
func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"", "Bearer", "Bearer ", "Bearer abc", "bearer a.b.c", "BEARER  x==", "Basic dXNlcjpwdw==",
		"Bearer a=b", "Bearer =", "Bearer a b", "Bearer\ttab", "Bearer é", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := auth.ParseBearer(h)
		if err != nil {
			var e *auth.Error
			if !errors.As(err, &e) || (e.Kind != auth.ErrNoToken && e.Kind != auth.ErrMalformed && e.Kind != auth.ErrInvalidToken) {
				t.Fatalf("%q: untyped error %v", h, err)
			}
			return
		}
		if tok == "" || len(tok) > auth.MaxTokenBytes || !strings.EqualFold(h[:6], "bearer") || !strings.HasSuffix(h, tok) {
			t.Fatalf("%q gave token %q", h, tok)
		}
		for _, c := range tok {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=", c) {
				t.Fatalf("%q gave token %q with %q", h, tok, c)
			}
		}
	})
}

// FuzzVerifyJWT: a verifier that knows only its own secret accepts no
// token the fuzzer makes up, whatever its shape, and never panics.
func FuzzVerifyJWT(f *testing.F) {
	secret := []byte(strings.Repeat("k", 32))
	v, err := auth.NewJWT(context.Background(), auth.JWTConfig{Issuer: "http://as", Audience: "http://rs/mcp", HMACSecret: secret})
	if err != nil {
		f.Fatal(err)
	}
	good := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "http://as", "aud": "http://rs/mcp", "sub": "c",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	good.Header["typ"] = "at+jwt"
	tok, _ := good.SignedString(secret)
	if _, err := v.Verify(context.Background(), tok, nil); err != nil {
		f.Fatalf("the seed token does not verify: %v", err)
	}
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", tok[:len(tok)-2], tok + "x",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.e30.AAAA", strings.Repeat(".", 20)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := v.Verify(context.Background(), s, nil)
		if err == nil {
			if s != tok {
				t.Fatalf("accepted a made-up token %q: %+v", s, info)
			}
			return
		}
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("%q: %v is not invalid_token", s, err)
		}
	})
}
