package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mcpbench/mcpbench/servers/gateway"
	"github.com/mcpbench/mcpbench/servers/rest"
	"github.com/spf13/pflag"
)

func init() {
	serverKinds["rest"] = serverKind{
		about: "the REST upstream (fasthttp): POST /tools/{name} with the shared tools, JSON in and out",
		register: fixed(serveSpec{
			serve: func(ctx context.Context, ln net.Listener, base string) error {
				return rest.Serve(ctx, ln, rest.Options{})
			},
			path: "/tools",
		}),
	}
	serverKinds["gateway"] = serverKind{
		about:    "an API gateway in front of --upstream: the Go one (fasthttp) or HAProxy; API keys or JWT, a rate limit",
		register: registerGateway,
	}
}

func registerGateway(fs *pflag.FlagSet) func() (serveSpec, error) {
	impl := fs.String("impl", "go", "implementation: go (fasthttp) or haproxy (HAProxy 2.6, run as a child)")
	upstream := fs.String("upstream", "", "the REST upstream's URL: http://host:port, or the http://host:port/tools that serve rest prints (required)")
	keys := fs.StringArray("api-key", nil, "apikey: an accepted key, sent by clients in X-API-Key (repeatable)"+secretHelp)
	rateLimit := fs.Float64("rate-limit", 1e6, "requests per second per key, subject or client; always evaluated (set high so as not to trip)")
	var af authFlags
	af.register(fs, "apikey", "jwt", "introspect")
	return func() (serveSpec, error) {
		if *upstream == "" {
			return serveSpec{}, fmt.Errorf("--upstream URL is required (start one with: mcpbench serve rest)")
		}
		up, err := upstreamBase(*upstream)
		if err != nil {
			return serveSpec{}, err
		}
		*upstream = up
		if err := af.check(); err != nil {
			return serveSpec{}, err
		}
		if af.mode == "apikey" && len(*keys) == 0 {
			return serveSpec{}, fmt.Errorf("--auth apikey needs at least one --api-key")
		}
		if af.mode != "apikey" && len(*keys) > 0 {
			return serveSpec{}, fmt.Errorf("--api-key needs --auth apikey")
		}
		for i, k := range *keys {
			var err error
			if (*keys)[i], err = readSecret("api-key", k); err != nil {
				return serveSpec{}, err
			}
		}
		if *rateLimit <= 0 {
			return serveSpec{}, fmt.Errorf("--rate-limit must be positive")
		}
		switch *impl {
		case "go":
		case "haproxy":
			return haproxySpec(*upstream, *keys, *rateLimit, &af)
		default:
			return serveSpec{}, fmt.Errorf("--impl is go or haproxy, not %q", *impl)
		}
		mode := af.mode
		if mode == "introspect" {
			mode = "jwt" // the gateway's bearer path takes any verifier
		}
		return serveSpec{
			serve: func(ctx context.Context, ln net.Listener, base string) error {
				resource := base + "/tools"
				v, aud, err := af.verifier(ctx, resource)
				if err != nil {
					return err
				}
				g, err := gateway.New(gateway.Options{Upstream: *upstream, Auth: mode, APIKeys: *keys, Verifier: v,
					Resource: aud, Issuer: af.issuer, RateLimit: *rateLimit})
				if err != nil {
					return err
				}
				return g.Serve(ctx, ln)
			},
			path: "/tools",
		}, nil
	}
}

// upstreamBase reads --upstream: http://host:port, with or without the
// /tools path that `serve rest` prints, and returns http://host:port, the
// form both gateways take.
func upstreamBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--upstream %q: %v", raw, err)
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/tools")
	if u.Scheme != "http" || u.Hostname() == "" || u.Port() == "" || u.User != nil ||
		path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--upstream %q: want http://host:port or http://host:port/tools (what serve rest prints)", raw)
	}
	return "http://" + u.Host, nil
}
