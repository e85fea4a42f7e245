// Package graphql is the GraphQL baseline: the shared workload
// (servers/tools) as the fields of a gqlgen server at POST /graphql, behind
// what a production GraphQL server puts in front of its resolvers: bearer
// tokens through the shared verifiers (servers/auth), a per-subject rate
// limit that is always evaluated, a body limit, and query validation with
// depth, complexity and token limits that really runs on every call (no
// query cache, no persisted queries: DESIGN.md's fair-comparison rule).
//
//	h, _ := graphql.NewHandler(graphql.Options{Auth: "jwt", Verifier: v,
//		Resource: "http://127.0.0.1:8080/graphql", Issuer: iss})
//	http.ListenAndServe("127.0.0.1:8080", h)
//
// or graphql.Serve(ctx, ln, opts), which runs until ctx is done. A call is
//
//	POST /graphql  {"query":"{ echo(message: \"hello\") }"}
//	→ 200 {"data":{"echo":"hello"}}
//
// Answers: 200 with data, or with "errors" for a tool's bad argument
// (extensions.code BAD_USER_INPUT); 400 (Accept:
// application/graphql-response+json) or 422 (application/json) for a query
// that does not parse or validate or is over a limit (extensions.code
// GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, DEPTH_LIMIT_EXCEEDED,
// COMPLEXITY_LIMIT_EXCEEDED, INTROSPECTION_DISABLED); 401/403/400 from the
// token check with an RFC 6750 challenge; 405 for a method other than
// POST; 413 for a body over the limit; 429 with Retry-After when the rate
// limit trips.
package graphql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/graphql/internal/gen"
	"github.com/mcpbench/mcpbench/servers/internal/serving"
)

//go:generate go tool gqlgen generate

// Path is where the GraphQL endpoint is served.
const Path = "/graphql"

// Scope is the scope every call needs when tokens are checked.
const Scope = "tools:call"

// ErrConfig is wrapped by NewHandler's errors for bad Options.
var ErrConfig = errors.New("graphql: bad options")

// Options configures the server. The zero value is a server without
// authentication and with the default limits.
type Options struct {
	// Auth is "none" (default) or "jwt": bearer tokens checked by Verifier
	// ("introspect" is accepted as a synonym: what checks the token is
	// Verifier's business).
	Auth string
	// Verifier checks bearer tokens; required when Auth is "jwt".
	Verifier auth.Verifier
	// Resource is this server's URL (http://ADDR/graphql), named in the
	// RFC 9728 metadata; it is the audience the Verifier must check. Serve
	// sets it from the listener when empty.
	Resource string
	// Issuer is the authorization server the metadata names.
	Issuer string
	// RateLimit is requests per second per subject (the token's sub, or
	// the client's IP address without auth); the limiter is evaluated on
	// every request that passes the token check. 0 means 1e6.
	RateLimit float64
	// Burst is the token bucket's size; 0 means RateLimit (a second's
	// worth, at least 1), as the gateway's.
	Burst int
	// MaxDepth is the deepest selection-set nesting a query may have
	// (a top-level field is depth 1); 0 means 5.
	MaxDepth int
	// MaxComplexity is gqlgen's complexity limit (each field costs 1 plus
	// its children); 0 means 50.
	MaxComplexity int
	// MaxTokens is the parser's token limit per query; 0 means 1000.
	MaxTokens int
	// Introspection enables __schema and __type queries; off by default.
	Introspection bool
	// MaxBody is the largest request body in bytes; 0 means 1 MiB.
	MaxBody int64
}

// withDefaults returns o with zero values replaced by the defaults, or an
// error naming what is wrong.
func (o Options) withDefaults() (Options, error) {
	switch o.Auth {
	case "":
		o.Auth = "none"
	case "none":
	case "jwt", "introspect":
		if o.Verifier == nil {
			return o, fmt.Errorf("%w: auth %s needs a Verifier", ErrConfig, o.Auth)
		}
		if o.Resource == "" {
			return o, fmt.Errorf("%w: auth %s needs Resource, this server's URL", ErrConfig, o.Auth)
		}
	default:
		return o, fmt.Errorf("%w: auth %q; want none or jwt", ErrConfig, o.Auth)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"MaxDepth", &o.MaxDepth, 5}, {"MaxComplexity", &o.MaxComplexity, 50}, {"MaxTokens", &o.MaxTokens, 1000}} {
		if *f.v < 0 {
			return o, fmt.Errorf("%w: %s is %d; want 0 (the default, %d) or more", ErrConfig, f.name, *f.v, f.def)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if o.RateLimit < 0 || o.RateLimit != o.RateLimit {
		return o, fmt.Errorf("%w: RateLimit is %v; want 0 (the default, 1e6 per second) or more", ErrConfig, o.RateLimit)
	}
	if o.RateLimit == 0 {
		o.RateLimit = 1e6
	}
	if o.Burst < 0 {
		return o, fmt.Errorf("%w: Burst is %d; want 0 (the default, the rate limit) or more", ErrConfig, o.Burst)
	}
	if o.Burst == 0 {
		o.Burst = max(1, int(math.Min(o.RateLimit, 1e6)))
	}
	if o.MaxBody < 0 {
		return o, fmt.Errorf("%w: MaxBody is %d; want 0 (the default, 1 MiB) or more", ErrConfig, o.MaxBody)
	}
	if o.MaxBody == 0 {
		o.MaxBody = 1 << 20
	}
	return o, nil
}

// NewHandler returns the server's handler: POST /graphql, and with auth
// the RFC 9728 metadata at auth.MetadataPath(Resource). Anything else is
// 404.
func NewHandler(opts Options) (http.Handler, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var h http.Handler = &bodyLimit{max: o.MaxBody, next: newGraphQL(o)}
	h = newRateLimit(o.RateLimit, o.Burst, h)
	mux := http.NewServeMux()
	if o.Auth != "none" {
		scopes := []string{Scope}
		h = auth.Middleware(o.Verifier, auth.Options{
			ResourceMetadataURL: auth.MetadataURL(o.Resource),
			Scopes:              scopes,
			Required:            func(*http.Request) []string { return scopes },
		})(h)
		md := auth.ResourceMetadata{Resource: o.Resource, ScopesSupported: []string{Scope}, ResourceName: "mcpbench GraphQL"}
		if o.Issuer != "" {
			md.AuthorizationServers = []string{o.Issuer}
		}
		mux.Handle(auth.MetadataPath(o.Resource), auth.MetadataHandler(md))
	}
	mux.Handle(Path, postOnly(h))
	return mux, nil
}

// newGraphQL is gqlgen's server as configured here: handler.New (never
// NewDefaultServer, which adds a query cache, persisted queries and
// introspection), POST only, no query cache, the limits.
func newGraphQL(o Options) *handler.Server {
	es := gen.NewExecutableSchema(gen.Config{Resolvers: resolver{}})
	srv := handler.New(es)
	srv.AddTransport(transport.POST{})
	// No SetQueryCache: the executor's default is graphql.NoCache, so every
	// call parses and validates its query.
	srv.SetParserTokenLimit(o.MaxTokens)
	// Suggestions ("Did you mean …?") tell the schema to whoever cannot
	// introspect it.
	srv.SetDisableSuggestion(!o.Introspection)
	// Extensions run in this order: queryLimits refuses what is too deep
	// or (counted in linear time) too complex before gqlgen's own
	// complexity extension, which stays as the authoritative check, walks.
	srv.Use(queryLimits{maxDepth: o.MaxDepth, maxComplexity: o.MaxComplexity, introspection: o.Introspection})
	srv.Use(extension.FixedComplexityLimit(o.MaxComplexity))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	return srv
}

// postOnly answers 405 to anything but POST.
func postOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "GraphQL is served over POST only")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Serve runs the server on ln until ctx is done, then shuts it down
// gracefully (waiting up to 10 s for calls in flight). An empty
// opts.Resource becomes http://ADDR/graphql, ADDR being ln's address.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	if opts.Resource == "" {
		opts.Resource = "http://" + ln.Addr().String() + Path
	}
	h, err := NewHandler(opts)
	if err != nil {
		return err
	}
	s := serving.HTTP2(&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
	return serving.Until(ctx, func() error { return s.Serve(ln) }, func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			return fmt.Errorf("graphql: shutdown: %w", err)
		}
		return nil
	})
}

var _ gql.HandlerExtension = queryLimits{}
