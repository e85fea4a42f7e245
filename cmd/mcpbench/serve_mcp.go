package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/mcp/fast"
	"github.com/spf13/pflag"
)

func init() {
	serverKinds["mcp"] = serverKind{
		about:    "an MCP server with the echo, compute, payload and sleep tools: the official go-sdk (--impl sdk) or the fasthttp fast path (--impl fast), optionally an OAuth resource server",
		register: registerMCP,
	}
}

// mcpFlags are serve mcp's own flags.
type mcpFlags struct {
	impl, transport, reply string
	fixtures               string // "" or "conformance"
	stateful               bool
	maxBody                int
	spin                   time.Duration
	auth                   authFlags
}

func registerMCP(fs *pflag.FlagSet) func() (serveSpec, error) {
	var f mcpFlags
	fs.StringVar(&f.impl, "impl", "sdk", "implementation: sdk (official go-sdk) or fast (fasthttp)")
	fs.StringVar(&f.transport, "transport", "http", "transport: http (Streamable HTTP), sse (legacy HTTP+SSE, sdk only), stdio (sdk only)")
	fs.BoolVar(&f.stateful, "stateful", false, "Streamable HTTP with sessions (protocol 2025-11-25; sdk only); default stateless (2026-07-28)")
	fs.StringVar(&f.reply, "reply", "json", "how Streamable HTTP answers a POST: json or sse (an event stream)")
	fs.IntVar(&f.maxBody, "max-body", 1<<20, "largest request body in bytes; larger ones get 413")
	fs.StringVar(&f.fixtures, "fixtures", "", "conformance: add the tools, resources, prompts, completions and logging the official MCP conformance suite's server scenarios call for (for conformance runs, never for benchmarks)")
	fs.DurationVar(&f.spin, "spin", 0, "fast only: burn this much CPU on every tools/call (a busy loop, not a sleep), a known cost to calibrate a benchmark against, e.g. 20us")
	f.auth.register(fs, "jwt", "introspect")
	return func() (serveSpec, error) {
		if f.reply != "json" && f.reply != "sse" {
			return serveSpec{}, fmt.Errorf("--reply is json or sse, not %q", f.reply)
		}
		if f.maxBody <= 0 {
			return serveSpec{}, fmt.Errorf("--max-body must be positive")
		}
		if err := f.auth.check(); err != nil {
			return serveSpec{}, err
		}
		if f.transport == "stdio" && f.auth.mode != "none" {
			return serveSpec{}, fmt.Errorf("stdio carries no OAuth (the MCP authorization spec is for HTTP transports): drop --auth")
		}
		if f.fixtures != "" && f.fixtures != "conformance" {
			return serveSpec{}, fmt.Errorf("--fixtures is conformance (or absent), not %q", f.fixtures)
		}
		if f.spin < 0 {
			return serveSpec{}, fmt.Errorf("--spin must not be negative")
		}
		if f.spin > 0 && f.impl != "fast" {
			return serveSpec{}, fmt.Errorf("--spin is for the fast server (--impl fast)")
		}
		switch f.impl {
		case "sdk":
			return sdkSpec(&f)
		case "fast":
			return fastSpec(&f)
		}
		return serveSpec{}, fmt.Errorf("--impl is sdk or fast, not %q", f.impl)
	}
}

func fastSpec(f *mcpFlags) (serveSpec, error) {
	if f.transport != "http" {
		return serveSpec{}, fmt.Errorf("the fast server speaks Streamable HTTP only (--transport http), not %q", f.transport)
	}
	if f.stateful {
		return serveSpec{}, fmt.Errorf("the fast server is stateless (2026-07-28; older clients initialize without a session): drop --stateful")
	}
	opts := fast.Options{Reply: f.reply, MaxBody: f.maxBody, Spin: f.spin, Fixtures: f.fixtures == "conformance"}
	if _, err := fast.New(opts); err != nil {
		return serveSpec{}, err
	}
	return f.protected(func(ctx context.Context, ln net.Listener, v auth.Verifier, aud, issuer string) error {
		opts := opts
		opts.Verifier, opts.Resource, opts.Issuer = v, aud, issuer
		return fast.Serve(ctx, ln, opts)
	}), nil
}

// protected is the spec of an MCP server at /mcp behind f's auth flags:
// its verifier is made once the server's URL is known, and handed to
// serve with the audience and issuer.
func (f *mcpFlags) protected(serve func(ctx context.Context, ln net.Listener, v auth.Verifier, aud, issuer string) error) serveSpec {
	return serveSpec{
		serve: func(ctx context.Context, ln net.Listener, base string) error {
			v, aud, err := f.auth.verifier(ctx, base+"/mcp")
			if err != nil {
				return err
			}
			return serve(ctx, ln, v, aud, f.auth.issuer)
		},
		path: "/mcp",
	}
}
