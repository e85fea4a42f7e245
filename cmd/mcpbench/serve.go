package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/servers/null"
)

const serveAbout = `
Run one of mcpbench's servers in the foreground. The first line on stdout is
"listening <URL>", the full URL to load; the server then serves until SIGINT
or SIGTERM, and shuts down cleanly. mcpbench starts its servers this way as
child processes, each on its own CPUs where the machine has them.

Kinds:
%s`

// serverKind is one kind of server `mcpbench serve` can run.
type serverKind struct {
	about string
	// serve serves on ln until ctx is done; url is what clients load.
	serve func(ctx context.Context, ln net.Listener) error
	url   func(addr string) string
}

var serverKinds = map[string]serverKind{
	"http": {
		about: "a minimal HTTP handler (fasthttp): 200 \"ok\\n\" to anything; the HTTP floor",
		serve: func(ctx context.Context, ln net.Listener) error { return null.ServeHTTP(ctx, ln, null.HTTPOptions{}) },
		url:   func(addr string) string { return "http://" + addr + "/" },
	},
	"echo": {
		about: "an HTTP echo (fasthttp): the request body back as the response",
		serve: func(ctx context.Context, ln net.Listener) error {
			return null.ServeHTTP(ctx, ln, null.HTTPOptions{Echo: true})
		},
		url: func(addr string) string { return "http://" + addr + "/" },
	},
	"tcpecho": {
		about: "a raw TCP echo: every byte back on the same connection; the network floor",
		serve: null.ServeTCPEcho,
		url:   func(addr string) string { return "tcp://" + addr },
	},
}

func kindsHelp() string {
	names := make([]string, 0, len(serverKinds))
	for n := range serverKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, serverKinds[n].about)
	}
	return b.String()
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "KIND [flags]", fmt.Sprintf(serveAbout, kindsHelp()))
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	cpus := fs.String("cpus", "", "pin the server to these CPUs, e.g. 1 or 1-3, and size GOMAXPROCS to match")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one server kind, one of:\n%s", errUsage, kindsHelp())
	}
	kind, ok := serverKinds[fs.Arg(0)]
	if !ok {
		return fmt.Errorf("%w: unknown server kind %q; kinds:\n%s", errUsage, fs.Arg(0), kindsHelp())
	}
	if err := pinTo(*cpus); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening %s\n", kind.url(ln.Addr().String()))
	return kind.serve(ctx, ln)
}

// pinTo pins this process to the CPUs in list ("" leaves it alone).
func pinTo(list string) error {
	if list == "" {
		return nil
	}
	cpus, err := proc.ParseCPUList(list)
	if err != nil {
		return fmt.Errorf("%w: --cpus: %v", errUsage, err)
	}
	return proc.PinSelf(cpus)
}

// pinGenerator pins the load generator.
func pinGenerator(list string) error { return pinTo(list) }
