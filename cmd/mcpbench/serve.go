package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/null"
	"github.com/spf13/pflag"
)

const serveContract = `
Run one of mcpbench's servers in the foreground. The first line on stdout is
"listening <URL>", the full URL to load; the server then serves until SIGINT
or SIGTERM, and shuts down cleanly. (A stdio server prints no such line: it
speaks its protocol on stdin and stdout.) mcpbench starts its servers this
way as child processes, each on its own CPUs where the machine has them.`

const serveAbout = serveContract + `
'mcpbench serve KIND --help' shows a kind's own flags.

Kinds:
%s`

// serveSpec is what a server kind's flags came to.
type serveSpec struct {
	// serve serves on ln until ctx is done. base is the server's URL
	// without a path (scheme and address: http://127.0.0.1:PORT), made
	// from the listener in one place (baseURL) for every kind.
	serve func(ctx context.Context, ln net.Listener, base string) error
	// launch, when set, replaces serve for a server started in steps
	// that can fail after the address is bound (HAProxy, a child): it
	// returns once the server serves, with the function that waits for
	// its end, so that "listening" is printed only then.
	launch func(ctx context.Context, ln net.Listener, base string, tlsCfg *tls.Config) (wait func() error, err error)
	// h2 says the server speaks HTTP/2 (net/http's servers): its TLS
	// offers h2 by ALPN. The fasthttp servers speak HTTP/1.1 only.
	h2 bool
	// path is what clients load below base: "/mcp", "/tools", "/".
	path string
	// tcp says the server speaks raw TCP: its URL is tcp://ADDR.
	tcp bool
	// stdio, when set, replaces listening: the server speaks on stdin and
	// stdout until stdin closes or ctx is done.
	stdio func(ctx context.Context) error
}

// serverKind is one kind of server `mcpbench serve` can run. register adds
// the kind's own flags to fs; the function it returns reads them after
// parsing.
type serverKind struct {
	about    string
	register func(fs *pflag.FlagSet) func() (serveSpec, error)
}

func baseURL(ln net.Listener, tcp bool) string {
	if tcp {
		return "tcp://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// fixed is a kind without flags of its own.
func fixed(spec serveSpec) func(*pflag.FlagSet) func() (serveSpec, error) {
	return func(*pflag.FlagSet) func() (serveSpec, error) {
		return func() (serveSpec, error) { return spec, nil }
	}
}

var serverKinds = map[string]serverKind{
	"http": {
		about: "a minimal HTTP handler (fasthttp): 200 \"ok\\n\" to anything; the HTTP floor",
		register: fixed(serveSpec{
			serve: func(ctx context.Context, ln net.Listener, _ string) error {
				return null.ServeHTTP(ctx, ln, null.HTTPOptions{})
			},
			path: "/",
		}),
	},
	"echo": {
		about: "an HTTP echo (fasthttp): the request body back as the response",
		register: fixed(serveSpec{
			serve: func(ctx context.Context, ln net.Listener, _ string) error {
				return null.ServeHTTP(ctx, ln, null.HTTPOptions{Echo: true})
			},
			path: "/",
		}),
	},
	"tcpecho": {
		about: "a raw TCP echo: every byte back on the same connection; the network floor",
		register: fixed(serveSpec{
			serve: func(ctx context.Context, ln net.Listener, _ string) error { return null.ServeTCPEcho(ctx, ln) },
			tcp:   true,
		}),
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
		fmt.Fprintf(&b, "  %-10s %s\n", n, serverKinds[n].about)
	}
	return b.String()
}

func runServe(ctx context.Context, args []string) error {
	// The kind comes first, so that its own flags can be parsed.
	var kindName string
	var kind serverKind
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kindName, args = args[0], args[1:]
		var ok bool
		if kind, ok = serverKinds[kindName]; !ok {
			return fmt.Errorf("%w: unknown server kind %q; kinds:\n%s", errUsage, kindName, kindsHelp())
		}
	}
	synopsis, about := "KIND [flags]", fmt.Sprintf(serveAbout, kindsHelp())
	if kindName != "" {
		synopsis, about = kindName+" [flags]", "Serve "+kind.about+".\n"+serveContract
	}
	fs := newFlags("serve", synopsis, about)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	cpus := fs.String("cpus", "", "pin the server to these CPUs, e.g. 1 or 1-3, and size GOMAXPROCS to match")
	statsAddr := fs.String("stats-addr", "", "also serve this process's token-check counts (verified-token cache hits and misses, introspection requests) as JSON at http://ADDR/stats, apart from the server's own port")
	var tf tlsFlags
	tf.register(fs)
	var build func() (serveSpec, error)
	if kindName != "" {
		build = kind.register(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if kindName == "" {
		return fmt.Errorf("%w: want a server kind first, one of:\n%s", errUsage, kindsHelp())
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	spec, err := build()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	tlsCfg, err := tf.config()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if tlsCfg != nil && (spec.tcp || spec.stdio != nil) {
		return fmt.Errorf("%w: --tls is for the HTTP servers (the TCP echo and stdio do not take it)", errUsage)
	}
	if err := pinTo(*cpus); err != nil {
		return err
	}
	if *statsAddr != "" {
		sln, err := net.Listen("tcp", *statsAddr)
		if err != nil {
			return fmt.Errorf("--stats-addr: %w", err)
		}
		go serveStats(ctx, sln)
	}
	if spec.stdio != nil {
		return spec.stdio(ctx)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := baseURL(ln, spec.tcp)
	if tlsCfg != nil {
		tlsCfg.NextProtos = []string{"http/1.1"}
		if spec.h2 {
			tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		}
		ln, base = tls.NewListener(ln, tlsCfg), "https"+strings.TrimPrefix(base, "http")
	}
	if spec.launch != nil {
		wait, err := spec.launch(ctx, ln, base, tlsCfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "listening %s\n", base+spec.path)
		return wait()
	}
	fmt.Fprintf(out, "listening %s\n", base+spec.path)
	return spec.serve(ctx, ln, base)
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

// serveStats serves the process's token-check counts at /stats until ctx
// is done.
func serveStats(ctx context.Context, ln net.Listener) {
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stats" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(auth.ReadCounters())
	})}
	go func() { <-ctx.Done(); srv.Close() }()
	srv.Serve(ln)
}
