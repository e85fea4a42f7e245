package main

import (
	"context"
	"fmt"
	"net"

	"github.com/mcpbench/mcpbench/servers/graphql"
	"github.com/spf13/pflag"
)

func init() {
	serverKinds["graphql"] = serverKind{
		about:    "the GraphQL baseline (gqlgen) at /graphql: the shared tools as fields, query validation on every call, JWT, a rate limit",
		register: registerGraphQL,
	}
}

func registerGraphQL(fs *pflag.FlagSet) func() (serveSpec, error) {
	var af authFlags
	af.register(fs, "jwt", "introspect")
	rateLimit := fs.Float64("rate-limit", 1e6, "requests per second per subject or client; always evaluated (set high so as not to trip)")
	depth := fs.Int("max-depth", 5, "deepest query nesting")
	complexity := fs.Int("max-complexity", 50, "gqlgen complexity limit")
	tokens := fs.Int("max-tokens", 1000, "parser token limit per query")
	introspection := fs.Bool("introspection", false, "allow __schema and __type queries (off when benchmarking)")
	return func() (serveSpec, error) {
		if err := af.check(); err != nil {
			return serveSpec{}, err
		}
		if *rateLimit <= 0 || *depth < 1 || *complexity < 1 || *tokens < 1 {
			return serveSpec{}, fmt.Errorf("--rate-limit, --max-depth, --max-complexity and --max-tokens must be positive")
		}
		return serveSpec{
			h2: true,
			serve: func(ctx context.Context, ln net.Listener, base string) error {
				resource := base + "/graphql"
				v, aud, err := af.verifier(ctx, resource)
				if err != nil {
					return err
				}
				mode := "none"
				if v != nil {
					mode = "jwt"
				}
				return graphql.Serve(ctx, ln, graphql.Options{Auth: mode, Verifier: v, Resource: aud, Issuer: af.issuer,
					RateLimit: *rateLimit, MaxDepth: *depth, MaxComplexity: *complexity, MaxTokens: *tokens, Introspection: *introspection})
			},
			path: "/graphql",
		}, nil
	}
}
