package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"github.com/mcpbench/mcpbench/servers/gateway"
	"github.com/spf13/pflag"
)

func init() {
	serverKinds["lb"] = serverKind{
		about:    "HAProxy 2.6 as a load balancer in front of replicas (--backend URL, repeated): round robin, or by MCP session",
		register: registerLB,
	}
}

func registerLB(fs *pflag.FlagSet) func() (serveSpec, error) {
	backends := fs.StringArray("backend", nil, "a replica's base URL, http://host:port (repeatable; at least one)")
	balance := fs.String("balance", "roundrobin", "roundrobin (each request to the next replica), or session (one Mcp-Session-Id's requests to one replica: a hash of the header)")
	path := fs.String("path", "/mcp", "the path clients call, for the URL printed")
	return func() (serveSpec, error) {
		if len(*backends) == 0 {
			return serveSpec{}, fmt.Errorf("give at least one --backend http://host:port")
		}
		if *balance != "roundrobin" && *balance != "session" {
			return serveSpec{}, fmt.Errorf("--balance is roundrobin or session, not %q", *balance)
		}
		if _, err := gateway.HAProxyVersion(); err != nil {
			return serveSpec{}, fmt.Errorf("HAProxy is not installed (make tools-haproxy installs it): %v", err)
		}
		return serveSpec{
			launch: func(ctx context.Context, ln net.Listener, base string, tlsCfg *tls.Config) (func() error, error) {
				if tlsCfg != nil {
					return nil, fmt.Errorf("%w: the load balancer serves plain HTTP", errUsage)
				}
				dir, err := os.MkdirTemp("", "mcpbench-lb-")
				if err != nil {
					return nil, err
				}
				addr := ln.Addr().String()
				ln.Close() // HAProxy binds the address itself
				h, err := gateway.StartLB(ctx, gateway.LBConfig{Listen: addr, Backends: *backends, Balance: *balance, Dir: dir})
				if err != nil {
					os.RemoveAll(dir)
					return nil, err
				}
				return func() error {
					defer os.RemoveAll(dir)
					<-ctx.Done()
					return h.Stop()
				}, nil
			},
			path: *path,
		}, nil
	}
}
