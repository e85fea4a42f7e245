package main

import (
	"cmp"
	"context"
	"crypto"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcpbench/mcpbench/servers/authserver"
	"github.com/spf13/pflag"
)

func init() {
	serverKinds["authserver"] = serverKind{
		about:    "an OAuth 2.1 authorization server: client credentials, authorization code with PKCE (automatic consent, loopback redirects), JWT (RFC 9068) or opaque tokens, JWKS, introspection",
		register: registerAuthServer,
	}
}

func registerAuthServer(fs *pflag.FlagSet) func() (serveSpec, error) {
	clients := fs.StringArray("client", nil, "a client as ID:SECRET (repeatable; at least one client, by secret or by key)"+secretHelp)
	clientKeys := fs.StringArray("client-key", nil, "a client that authenticates with JWT assertions (RFC 7523), as ID:PUBLIC-KEY, the PEM public key as @FILE or env:NAME (repeatable)")
	alg := fs.String("alg", "RS256", "JWT signing algorithm: "+strings.Join(authserver.Algorithms, ", "))
	secret := fs.String("hmac-secret", "", "HS256 only: the shared key, hex (at least 32 bytes); resource servers get the same"+secretHelp)
	tokens := fs.String("tokens", "jwt", "token kind: jwt (verified locally) or opaque (introspected)")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	rotate := fs.Duration("rotate-every", 0, "make a new signing key this often (0: never); old keys stay published until their tokens expire")
	scopes := fs.StringSlice("scopes", authserver.DefaultScopes, "scopes clients may ask for")
	issuer := fs.String("issuer", "", "the issuer URL tokens and metadata name, for clients that reach the server by another address than the one it listens on (a Kubernetes Service; default: the URL served)")
	defResource := fs.String("default-resource", "", "the audience of a token asked for without the RFC 8707 resource parameter (default: such a request is refused, as the MCP spec has clients send it)")
	return func() (serveSpec, error) {
		opts := authserver.Options{Clients: map[string]string{}, Alg: *alg, Tokens: *tokens, TTL: *ttl, Scopes: *scopes, DefaultResource: *defResource}
		for _, c := range *clients {
			id, sec, err := readCredentials("client", c)
			if err != nil {
				return serveSpec{}, err
			}
			opts.Clients[id] = sec
		}
		for _, c := range *clientKeys {
			id, key, err := readClientPublicKey(c)
			if err != nil {
				return serveSpec{}, err
			}
			if opts.ClientKeys == nil {
				opts.ClientKeys = map[string]crypto.PublicKey{}
			}
			opts.ClientKeys[id] = key
		}
		if len(opts.Clients)+len(opts.ClientKeys) == 0 {
			return serveSpec{}, fmt.Errorf("give at least one --client ID:SECRET or --client-key ID:@KEY.pub")
		}
		if *secret != "" {
			s, err := readSecret("hmac-secret", *secret)
			if err != nil {
				return serveSpec{}, err
			}
			b, err := hex.DecodeString(s)
			if err != nil || len(b) < 32 {
				return serveSpec{}, fmt.Errorf("--hmac-secret must be at least 32 bytes in hex")
			}
			opts.HMACSecret = b
		}
		if opts.Alg == "HS256" && opts.HMACSecret == nil {
			return serveSpec{}, fmt.Errorf("--alg HS256 needs --hmac-secret, which the resource servers must share")
		}
		if *rotate < 0 {
			return serveSpec{}, fmt.Errorf("--rotate-every must not be negative")
		}
		return serveSpec{
			h2: true,
			serve: func(ctx context.Context, ln net.Listener, base string) error {
				opts := opts
				opts.Issuer = cmp.Or(strings.TrimSuffix(*issuer, "/"), base)
				s, err := authserver.New(opts)
				if err != nil {
					return err
				}
				if *rotate > 0 {
					go rotateEvery(ctx, s, *rotate)
				}
				go rotateOnHUP(ctx, s)
				return s.Serve(ctx, ln)
			},
			path: "",
		}, nil
	}
}

// rotateOnHUP makes a new signing key on each SIGHUP (fault injection:
// a key rotation in the middle of a run).
func rotateOnHUP(ctx context.Context, s *authserver.Server) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := s.Rotate(); err != nil {
				fmt.Fprintf(errOut, "authserver: key rotation: %v\n", err)
			}
		}
	}
}

func rotateEvery(ctx context.Context, s *authserver.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Rotate(); err != nil {
				fmt.Fprintf(errOut, "authserver: key rotation: %v\n", err)
			}
		}
	}
}
