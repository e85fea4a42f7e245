package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/mcp/sdk"
)

// sdkSpec serves the official go-sdk server on the chosen transport.
func sdkSpec(f *mcpFlags) (serveSpec, error) {
	switch f.transport {
	case "stdio":
		if f.stateful || f.reply != "json" {
			return serveSpec{}, fmt.Errorf("--stateful and --reply are for --transport http")
		}
		if f.fixtures != "" {
			return serveSpec{}, fmt.Errorf("--fixtures is for --transport http or sse")
		}
		return serveSpec{stdio: func(ctx context.Context) error { return sdk.ServeStdio(ctx, os.Stdin, os.Stdout) }}, nil
	case "http", "sse":
	default:
		return serveSpec{}, fmt.Errorf("--transport is http, sse or stdio, not %q", f.transport)
	}
	opts := sdk.Options{Transport: f.transport, Stateful: f.stateful, MaxBody: int64(f.maxBody), Fixtures: f.fixtures == "conformance"}
	if f.transport == "http" {
		opts.Reply = f.reply
	} else if f.reply != "json" || f.stateful {
		return serveSpec{}, fmt.Errorf("--reply and --stateful are for --transport http")
	}
	if _, err := sdk.Handler(opts); err != nil {
		return serveSpec{}, err
	}
	spec := f.protected(func(ctx context.Context, ln net.Listener, v auth.Verifier, aud, issuer string) error {
		opts := opts
		opts.Verifier, opts.Resource, opts.Issuer = v, aud, issuer
		return sdk.ServeHTTP(ctx, ln, opts)
	})
	spec.h2 = true
	return spec, nil
}
