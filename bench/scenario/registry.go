package scenario

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/driver/mcp"
	"github.com/mcpbench/mcpbench/bench/driver/tcpecho"
	"github.com/mcpbench/mcpbench/bench/proc"
)

// StackKind is everything a scenario knows of one kind of stack: what a
// variant of it may say, what it defaults to, how its server is started
// and how it is called. Adding a stack is an entry in StackKinds, its
// server package and its `mcpbench serve` kind.
type StackKind struct {
	// Floor marks the machine's floor rows: measured, never compared.
	Floor bool
	// MCPKeys says transport, stateful and reply apply.
	MCPKeys bool
	// Limiter says the stack has a rate limiter (rate_limit applies).
	Limiter bool
	// check says what is impossible about a variant of this stack, or "".
	check func(v *Variant) string
	// defaults fills in what a variant of this stack left out.
	defaults func(v *Variant)
	// Serve returns the `mcpbench serve` arguments of the variant's
	// server; nil when mcpbench starts none (an external URL or command,
	// a stdio server the driver starts). authArgs are the protected
	// server's flags (--auth, --issuer, …).
	Serve func(ctx context.Context, in Infra, v *Variant, authArgs []string) ([]string, error)
	// Command, when set, returns the command of a server the driver
	// starts itself (a stdio server, one per connection), or nil.
	Command func(in Infra, v *Variant) []string
	// Upstream says every call also works the REST upstream (a gateway).
	Upstream bool
	// Driver calls the variant's stack at t.
	Driver func(v *Variant, t Target) (bench.Driver, error)
}

// Infra is what launching a stack needs of the harness that runs it.
type Infra interface {
	// Upstream starts the REST upstream the gateways front, once, and
	// returns its URL: with replicas > 0, that many behind HAProxy (once
	// per count).
	Upstream(ctx context.Context, replicas int) (string, error)
	// Exe is the mcpbench binary the servers are started from.
	Exe() string
	// ServerCPUs are the CPUs the servers are pinned to; empty for none.
	ServerCPUs() []int
}

// EnvAPIKey is the environment variable a gateway's API key reaches it in
// (named on its command line as env:MCPBENCH_API_KEY: a command line is
// world-readable, an environment only by its owner).
const EnvAPIKey = "MCPBENCH_API_KEY"

// Target is where and how a variant's driver calls.
type Target struct {
	URL         string
	Command     []string // a server the driver starts (stdio)
	Workload    Workload
	Connections int
	Token       bench.TokenSource
	// Authorizer, when set, puts the credentials on each request in place
	// of a bearer token from Token (DPoP).
	Authorizer driver.Authorizer
	APIKey     string
	// TLS is the client's configuration for https (the run's CA);
	// NewConnPerCall makes every call dial (and handshake) afresh.
	TLS            *tls.Config
	NewConnPerCall bool
	HTTP2          bool // every call a stream on one HTTP/2 connection
}

// auth is the Authorizer of a target's calls.
func (t Target) auth() driver.Authorizer {
	if t.Authorizer != nil {
		return t.Authorizer
	}
	return driver.BearerOf(t.Token)
}

// StackKinds are the stacks a variant can name, by its stack key.
var StackKinds = map[string]StackKind{
	"mcp": {
		MCPKeys: true,
		check: func(v *Variant) string {
			switch {
			case v.Impl != "" && v.Impl != "sdk" && v.Impl != "fast":
				return fmt.Sprintf("impl for mcp is sdk or fast, not %q", v.Impl)
			case v.Impl == "fast" && (v.Transport == "sse" || v.Transport == "stdio" || v.Stateful):
				return "the fast server speaks stateless Streamable HTTP only (transport http, no stateful)"
			case v.Transport == "stdio" && v.Auth != "" && v.Auth != "none":
				return "stdio carries no OAuth (the MCP authorization spec is for HTTP): use auth none"
			case v.Auth == "apikey":
				return "auth apikey is for gateways; MCP servers take jwt or introspect"
			}
			return ""
		},
		defaults: func(v *Variant) {
			v.Impl = or(v.Impl, "sdk")
			v.Transport = or(v.Transport, "http")
			if v.Transport == "http" {
				v.Reply = or(v.Reply, "json")
			}
			if v.Protocol == "" {
				v.Protocol = "2026-07-28"
				if v.Stateful || v.Transport != "http" {
					v.Protocol = "2025-11-25"
				}
			}
		},
		Serve: func(_ context.Context, _ Infra, v *Variant, authArgs []string) ([]string, error) {
			if v.Transport == "stdio" {
				return nil, nil // the driver starts one per connection
			}
			args := []string{"mcp", "--impl", v.Impl, "--transport", v.Transport}
			if v.Stateful {
				args = append(args, "--stateful")
			}
			if v.Reply != "" {
				args = append(args, "--reply", v.Reply)
			}
			if v.Spin > 0 {
				args = append(args, "--spin", v.Spin.String())
			}
			return append(args, authArgs...), nil
		},
		Command: func(in Infra, v *Variant) []string {
			if v.Transport != "stdio" {
				return nil
			}
			cmd := []string{in.Exe(), "serve", "mcp", "--impl", v.Impl, "--transport", "stdio"}
			if cpus := in.ServerCPUs(); len(cpus) > 0 {
				cmd = append(cmd, "--cpus", proc.FormatCPUList(cpus))
			}
			return cmd
		},
		Driver: mcpDriver,
	},
	"gateway": {
		Limiter:  true,
		Upstream: true,
		check: func(v *Variant) string {
			switch {
			case v.Impl != "" && v.Impl != "go" && v.Impl != "haproxy":
				return fmt.Sprintf("impl for gateway is go or haproxy, not %q", v.Impl)
			case v.Impl == "haproxy" && v.Auth == "introspect":
				return "HAProxy cannot introspect tokens: use jwt or apikey"
			}
			return ""
		},
		defaults: func(v *Variant) { v.Impl = or(v.Impl, "go") },
		Serve: func(ctx context.Context, in Infra, v *Variant, authArgs []string) ([]string, error) {
			up, err := in.Upstream(ctx, v.UpstreamReplicas)
			if err != nil {
				return nil, err
			}
			args := []string{"gateway", "--impl", v.Impl, "--upstream", up, "--auth", v.Auth}
			if v.Auth == "apikey" {
				return append(args, "--api-key", "env:"+EnvAPIKey), nil
			}
			if len(authArgs) > 2 {
				args = append(args, authArgs[2:]...) // the issuer flags; --auth is given
			}
			return args, nil
		},
		Driver: restDriver,
	},
	"graphql": {
		Limiter: true,
		check: func(v *Variant) string {
			if v.Auth != "" && v.Auth != "none" && v.Auth != "jwt" && v.Auth != "introspect" {
				return "graphql takes auth none, jwt or introspect"
			}
			return ""
		},
		Serve: func(_ context.Context, _ Infra, _ *Variant, authArgs []string) ([]string, error) {
			return append([]string{"graphql"}, authArgs...), nil
		},
		Driver: func(v *Variant, t Target) (bench.Driver, error) {
			q, err := graphQLQuery(t.Workload)
			if err != nil {
				return nil, err
			}
			return httpcall.NewGraphQL(httpcall.GraphQLConfig{URL: t.URL, Query: q, Auth: t.auth(), Connections: t.Connections,
				TLS: t.TLS, NewConnPerCall: t.NewConnPerCall, HTTP2: t.HTTP2})
		},
	},
	"rest": {
		check:  noAuth,
		Serve:  fixedServe("rest"),
		Driver: restDriver,
	},
	"external": {
		MCPKeys: true,
		check: func(v *Variant) string {
			if (v.URL == "") == (len(v.Command) == 0) {
				return "an external server needs url or command (one of them)"
			}
			return ""
		},
		defaults: func(v *Variant) { v.Protocol = or(v.Protocol, "auto") },
		Command:  func(_ Infra, v *Variant) []string { return v.Command },
		Driver:   mcpDriver,
	},
	"http-floor": {
		Floor: true,
		check: noAuth,
		Serve: fixedServe("http"),
		Driver: func(v *Variant, t Target) (bench.Driver, error) {
			return httpcall.New(httpcall.Config{URL: t.URL, Method: "POST", Body: t.Workload.Arguments, Connections: t.Connections})
		},
	},
	"tcp-floor": {
		Floor: true,
		check: noAuth,
		Serve: fixedServe("tcpecho"),
		Driver: func(v *Variant, t Target) (bench.Driver, error) {
			return &tcpecho.Driver{Addr: strings.TrimPrefix(t.URL, "tcp://")}, nil
		},
	},
}

// Stacks are the values of a variant's stack key.
var Stacks = []string{"mcp", "gateway", "graphql", "rest", "external", "http-floor", "tcp-floor"}

func noAuth(v *Variant) string {
	if v.Auth != "" && v.Auth != "none" {
		return v.Stack + " has no auth layer"
	}
	return ""
}

func fixedServe(kind string) func(context.Context, Infra, *Variant, []string) ([]string, error) {
	return func(context.Context, Infra, *Variant, []string) ([]string, error) { return []string{kind}, nil }
}

func restDriver(v *Variant, t Target) (bench.Driver, error) {
	cfg := httpcall.RESTCall(t.URL, t.Workload.Tool, t.Workload.Arguments)
	cfg.Connections, cfg.Auth, cfg.TLS, cfg.NewConnPerCall, cfg.HTTP2 = t.Connections, t.auth(), t.TLS, t.NewConnPerCall, t.HTTP2
	if v.Auth == "apikey" {
		cfg.Header = append(cfg.Header, driver.Header{Name: "X-API-Key", Value: t.APIKey})
	}
	return httpcall.New(cfg)
}

func mcpDriver(v *Variant, t Target) (bench.Driver, error) {
	transport := v.Transport
	if transport == "" && len(t.Command) > 0 {
		transport = "stdio"
	}
	return mcp.New(mcp.Config{URL: t.URL, Command: t.Command, Transport: transport, Protocol: v.Protocol,
		Tool: t.Workload.Tool, Arguments: t.Workload.Arguments, Auth: t.auth(), TLS: t.TLS, NewConnPerCall: t.NewConnPerCall, HTTP2: t.HTTP2})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// graphQLQuery writes the workload as a GraphQL query with literal
// arguments: { echo(message: "hello") }.
func graphQLQuery(w Workload) (string, error) {
	var args map[string]any
	if len(w.Arguments) > 0 {
		if err := json.Unmarshal(w.Arguments, &args); err != nil {
			return "", fmt.Errorf("workload arguments: %v", err)
		}
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		var lit string
		switch a := args[k].(type) {
		case string:
			b, _ := json.Marshal(a)
			lit = string(b)
		case float64:
			lit = strconv.FormatFloat(a, 'f', -1, 64)
		case bool:
			lit = strconv.FormatBool(a)
		default:
			return "", fmt.Errorf("GraphQL argument %s: only strings, numbers and booleans", k)
		}
		parts = append(parts, k+": "+lit)
	}
	if len(parts) == 0 {
		return "{ " + w.Tool + " }", nil
	}
	return "{ " + w.Tool + "(" + strings.Join(parts, ", ") + ") }", nil
}
