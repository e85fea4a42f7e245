package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/driver/mcp"
	"github.com/mcpbench/mcpbench/bench/driver/tcpecho"
	"github.com/mcpbench/mcpbench/bench/proc"
)

// stackKind is everything a scenario knows of one kind of stack: what a
// variant of it may say, what it defaults to, how its server is started
// and how it is called. Adding a stack is an entry in stackKinds, its
// server package and its `mcpbench serve` kind.
type stackKind struct {
	// floor marks the machine's floor rows: measured, never compared.
	floor bool
	// mcpKeys says transport, stateful and reply apply.
	mcpKeys bool
	// limiter says the stack has a rate limiter (rate_limit applies).
	limiter bool
	// check says what is impossible about a variant of this stack, or "".
	check func(v *Variant) string
	// defaults fills in what a variant of this stack left out.
	defaults func(v *Variant)
	// serve returns the `mcpbench serve` arguments of the variant's
	// server; nil when mcpbench starts none (an external URL or command,
	// a stdio server the driver starts). authArgs are the protected
	// server's flags (--auth, --issuer, …).
	serve func(ctx context.Context, in *infra, v *Variant, authArgs []string) ([]string, error)
	// command, when set, returns the command of a server the driver
	// starts itself (a stdio server, one per connection), or nil.
	command func(in *infra, v *Variant) []string
	// upstream says every call also works the REST upstream (a gateway).
	upstream bool
	// driver calls the variant's stack at t.
	driver func(v *Variant, t target) (bench.Driver, error)
}

// target is where and how a variant's driver calls.
type target struct {
	url         string
	command     []string // a server the driver starts (stdio)
	workload    Workload
	connections int
	token       bench.TokenSource
	apiKey      string
}

// stackKinds are the stacks a variant can name, by its stack key.
var stackKinds = map[string]stackKind{
	"mcp": {
		mcpKeys: true,
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
		serve: func(_ context.Context, _ *infra, v *Variant, authArgs []string) ([]string, error) {
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
		command: func(in *infra, v *Variant) []string {
			if v.Transport != "stdio" {
				return nil
			}
			cmd := []string{in.env.Exe, "serve", "mcp", "--impl", v.Impl, "--transport", "stdio"}
			if len(in.env.ServerCPUs) > 0 {
				cmd = append(cmd, "--cpus", proc.FormatCPUList(in.env.ServerCPUs))
			}
			return cmd
		},
		driver: mcpDriver,
	},
	"gateway": {
		limiter:  true,
		upstream: true,
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
		serve: func(ctx context.Context, in *infra, v *Variant, authArgs []string) ([]string, error) {
			up, err := in.upstream(ctx)
			if err != nil {
				return nil, err
			}
			args := []string{"gateway", "--impl", v.Impl, "--upstream", up, "--auth", v.Auth}
			if v.Auth == "apikey" {
				return append(args, "--api-key", "env:"+envAPIKey), nil
			}
			if len(authArgs) > 2 {
				args = append(args, authArgs[2:]...) // the issuer flags; --auth is given
			}
			return args, nil
		},
		driver: restDriver,
	},
	"graphql": {
		limiter: true,
		check: func(v *Variant) string {
			if v.Auth != "" && v.Auth != "none" && v.Auth != "jwt" && v.Auth != "introspect" {
				return "graphql takes auth none, jwt or introspect"
			}
			return ""
		},
		serve: func(_ context.Context, _ *infra, _ *Variant, authArgs []string) ([]string, error) {
			return append([]string{"graphql"}, authArgs...), nil
		},
		driver: func(v *Variant, t target) (bench.Driver, error) {
			q, err := graphQLQuery(t.workload)
			if err != nil {
				return nil, err
			}
			return httpcall.NewGraphQL(httpcall.GraphQLConfig{URL: t.url, Query: q, Auth: driver.BearerOf(t.token), Connections: t.connections})
		},
	},
	"rest": {
		check:  noAuth,
		serve:  fixedServe("rest"),
		driver: restDriver,
	},
	"external": {
		mcpKeys: true,
		check: func(v *Variant) string {
			if (v.URL == "") == (len(v.Command) == 0) {
				return "an external server needs url or command (one of them)"
			}
			return ""
		},
		defaults: func(v *Variant) { v.Protocol = or(v.Protocol, "auto") },
		command:  func(_ *infra, v *Variant) []string { return v.Command },
		driver:   mcpDriver,
	},
	"http-floor": {
		floor: true,
		check: noAuth,
		serve: fixedServe("http"),
		driver: func(v *Variant, t target) (bench.Driver, error) {
			return httpcall.New(httpcall.Config{URL: t.url, Method: "POST", Body: t.workload.Arguments, Connections: t.connections})
		},
	},
	"tcp-floor": {
		floor: true,
		check: noAuth,
		serve: fixedServe("tcpecho"),
		driver: func(v *Variant, t target) (bench.Driver, error) {
			return &tcpecho.Driver{Addr: strings.TrimPrefix(t.url, "tcp://")}, nil
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

func fixedServe(kind string) func(context.Context, *infra, *Variant, []string) ([]string, error) {
	return func(context.Context, *infra, *Variant, []string) ([]string, error) { return []string{kind}, nil }
}

func restDriver(v *Variant, t target) (bench.Driver, error) {
	cfg := httpcall.RESTCall(t.url, t.workload.Tool, t.workload.Arguments)
	cfg.Connections, cfg.Auth = t.connections, driver.BearerOf(t.token)
	if v.Auth == "apikey" {
		cfg.Header = append(cfg.Header, driver.Header{Name: "X-API-Key", Value: t.apiKey})
	}
	return httpcall.New(cfg)
}

func mcpDriver(v *Variant, t target) (bench.Driver, error) {
	transport := v.Transport
	if transport == "" && len(t.command) > 0 {
		transport = "stdio"
	}
	return mcp.New(mcp.Config{URL: t.url, Command: t.command, Transport: transport, Protocol: v.Protocol,
		Tool: t.workload.Tool, Arguments: t.workload.Arguments, Auth: driver.BearerOf(t.token)})
}

// rateLimitArgs is a limited stack's --rate-limit flag.
func rateLimitArgs(v *Variant) []string {
	if v.RateLimit <= 0 {
		return nil
	}
	return []string{"--rate-limit", strconv.FormatFloat(v.RateLimit, 'f', -1, 64)}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
