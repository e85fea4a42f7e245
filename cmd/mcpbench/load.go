package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/driver/mcp"
	"github.com/mcpbench/mcpbench/bench/driver/tcpecho"
	"github.com/mcpbench/mcpbench/bench/oauth"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/internal/dpop"
	"github.com/spf13/pflag"
)

const loadAbout = `
Put load on one URL and report its latency from each request's intended start
(no coordinated omission): response time, service time and schedule lag, as
HdrHistograms, with errors classified and every scheduled request accounted for.

Open loop by default: requests leave on schedule (--rate, optionally ramping
or stepping) whatever the server does; when all connections are busy a
request waits, and the wait counts. --closed instead runs --connections
callers back to back (a saturation run, labelled closed in every output).

URL is http://host:port/path, or tcp://host:port for a raw echo round trip.
With --mcp it is an MCP endpoint, called with tools/call in whichever
protocol the server offers (2026-07-28 stateless, else an initialized
session); with --mcp --transport stdio the arguments after -- are a stdio
server's command line, one process per connection. --client ID:SECRET makes
mcpbench an OAuth client: it finds the authorization server from the
server's 401 and gets tokens by client credentials; --client ID with
--client-key KEY.pem authenticates with signed JWT assertions instead of a
secret.

Examples:
  mcpbench load http://127.0.0.1:8080/ --rate 2000 --duration 30s
  mcpbench load http://127.0.0.1:8080/ --rate 100 --ramp-to 5000 --duration 60s
  mcpbench load http://127.0.0.1:8080/ --closed -c 16 --duration 10s
  mcpbench load --mcp http://127.0.0.1:8080/mcp --rate 1000 --tool echo --args '{"message":"hi"}'
  mcpbench load --mcp http://127.0.0.1:8080/mcp --rate 1000 --client bench:secret
  mcpbench load --mcp http://127.0.0.1:8080/mcp --rate 1000 --client bench --client-key bench.pem
  mcpbench load --mcp http://127.0.0.1:8080/mcp --rate 1000 --client bench:secret --dpop
  mcpbench load --mcp http://127.0.0.1:8080/mcp --rate 100 --grant authorization_code
  mcpbench load --mcp https://127.0.0.1:8443/mcp --cacert ca.pem --rate 500 --new-conn-per-call
  mcpbench load --mcp https://127.0.0.1:8443/mcp --cacert ca.pem --rate 1000 --http2
  mcpbench load --mcp --transport stdio --rate 100 -- npx -y @modelcontextprotocol/server-everything`

// loadFlags are the load options shared by load and floor.
type loadFlags struct {
	rate, rampTo, step        float64
	stepEvery                 time.Duration
	closed                    bool
	connections               int
	duration, warmup, timeout time.Duration
	requests                  uint64
	cpus                      string
	progress, format, out     string
	noSave                    bool
	engine, batch             string
	prog                      *progress // set by config when a progress line is wanted
}

func (lf *loadFlags) register(fs *pflag.FlagSet, defaultRate float64) {
	fs.Float64VarP(&lf.rate, "rate", "r", defaultRate, "target rate, requests per second (open loop)")
	fs.Float64Var(&lf.rampTo, "ramp-to", 0, "ramp the rate linearly from --rate to this over --duration")
	fs.Float64Var(&lf.step, "step", 0, "add this much rate every --step-every (a stepped load)")
	fs.DurationVar(&lf.stepEvery, "step-every", 0, "how long each step of --step lasts")
	fs.BoolVar(&lf.closed, "closed", false, "closed loop: --connections callers back to back, as fast as answered")
	fs.IntVarP(&lf.connections, "connections", "c", 16, "connections (workers): the most calls in flight at once")
	fs.DurationVarP(&lf.duration, "duration", "d", 10*time.Second, "length of the measured segment (0: until --requests)")
	fs.Uint64VarP(&lf.requests, "requests", "n", 0, "stop after scheduling this many measured requests (0: no limit)")
	fs.DurationVar(&lf.warmup, "warmup", time.Second, "warm-up before measuring; its calls are not recorded")
	fs.DurationVar(&lf.timeout, "timeout", 10*time.Second, "per-call timeout; a call past it counts as a timeout error")
	fs.StringVar(&lf.cpus, "cpus", "", "pin the load generator to these CPUs, e.g. 0 or 0-1 (default: not pinned)")
	fs.StringVar(&lf.progress, "progress", "auto", "progress line each second on stderr: auto (when a terminal), on, off")
	fs.StringVar(&lf.format, "format", "table", "what to print on stdout: table, or json (the summary)")
	fs.StringVarP(&lf.out, "out", "o", "", "results directory (default results/COMMAND/TIMESTAMP)")
	fs.BoolVar(&lf.noSave, "no-save", false, "do not write a results directory")
	fs.StringVar(&lf.engine, "engine", "auto", "what makes the calls: loop (one event-loop thread; plain HTTP and MCP Streamable HTTP), workers (a goroutine per connection), or auto (the loop where the driver allows)")
	fs.StringVar(&lf.batch, "batch", "0", "the event loop's batching window (open loop): wake for the schedule at most once per window and send all that is due then, never early but up to the window late (the lateness counts in latency and shows as lag). Replies are then timed by the kernel's receive timestamp and read at the next batch. 0: every request leaves when due. 1ms: wrk2's timer granularity, several times less generator CPU at 5,000-40,000/s. auto: 0 below 2,000/s, 1ms from there")
}

// engineConfig reads --engine and --batch.
func (lf *loadFlags) engineConfig(c *bench.Config) error {
	switch lf.engine {
	case "auto":
		c.Engine = bench.EngineAuto
	case bench.EngineLoop, bench.EngineWorkers:
		c.Engine = lf.engine
	default:
		return fmt.Errorf("%w: --engine is auto, loop or workers, not %q", errUsage, lf.engine)
	}
	if lf.batch == "auto" {
		c.Batch = bench.BatchAuto
		return nil
	}
	d, err := time.ParseDuration(lf.batch)
	if err != nil || d < 0 || d > time.Second {
		return fmt.Errorf("%w: --batch is auto or a duration from 0 to 1s, not %q", errUsage, lf.batch)
	}
	c.Batch = d
	return nil
}

// pacer builds the schedule the flags ask for.
func (lf *loadFlags) pacer() (bench.Pacer, error) {
	if lf.closed {
		if lf.rate != 0 || lf.rampTo != 0 || lf.step != 0 {
			return nil, fmt.Errorf("%w: --closed runs as fast as the server answers: drop --rate, --ramp-to and --step", errUsage)
		}
		return nil, nil
	}
	if lf.rate <= 0 {
		return nil, fmt.Errorf("%w: --rate must be positive (requests per second), or use --closed", errUsage)
	}
	switch {
	case lf.rampTo > 0 && lf.step > 0:
		return nil, fmt.Errorf("%w: --ramp-to and --step are two different schedules: choose one", errUsage)
	case lf.rampTo > 0 && lf.duration <= 0:
		return nil, fmt.Errorf("%w: --ramp-to ramps over --duration, which must be positive", errUsage)
	case lf.step > 0 && (lf.stepEvery <= 0 || lf.duration <= 0):
		return nil, fmt.Errorf("%w: --step needs --step-every and a positive --duration", errUsage)
	}
	p, err := bench.Schedule{Rate: lf.rate, RampTo: lf.rampTo, Step: lf.step, StepEvery: lf.stepEvery,
		Warmup: lf.warmup, Span: lf.duration}.Pacer()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return p, nil
}

// config is the part of a run's configuration that the flags give.
func (lf *loadFlags) config(name string) (bench.Config, error) {
	if !lf.noSave {
		if err := checkOut(lf.out); err != nil {
			return bench.Config{}, err
		}
	}
	p, err := lf.pacer()
	if err != nil {
		return bench.Config{}, err
	}
	if lf.connections < 1 {
		return bench.Config{}, fmt.Errorf("%w: --connections must be at least 1", errUsage)
	}
	if lf.duration <= 0 && lf.requests == 0 {
		return bench.Config{}, fmt.Errorf("%w: give a positive --duration or --requests, so that the run ends", errUsage)
	}
	if lf.format != "table" && lf.format != "json" {
		return bench.Config{}, fmt.Errorf("%w: --format is table or json, not %q", errUsage, lf.format)
	}
	c := bench.Config{
		Name: name, Closed: lf.closed, Connections: lf.connections,
		Duration: lf.duration, Requests: lf.requests, Warmup: lf.warmup, Timeout: lf.timeout,
	}
	if p != nil {
		c.Pacer = p
	}
	if err := lf.engineConfig(&c); err != nil {
		return bench.Config{}, err
	}
	show, err := progressWanted(lf.progress)
	if err != nil {
		return bench.Config{}, err
	}
	if show {
		lf.prog = &progress{name: name}
		c.OnInterval = lf.prog.interval
	}
	return c, nil
}

// loadTarget are load's flags about what to call.
type loadTarget struct {
	method, body, bodyFile          string
	headers                         []string
	size, fresh                     int
	isMCP                           bool
	tool, args, protocol, transport string
	client, clientKey, name, grant  string
	dpop, newConn, http2            bool
	h2Conns                         int
	shard, startAt                  string
	tlsf                            clientTLSFlags
	tls                             *tls.Config // from tlsf
	dpopAlg                         string
	dpopAuth                        *driver.DPoP // set by oauth with --dpop
}

func runLoad(ctx context.Context, args []string) error {
	fs := newFlags("load", "URL [flags]", loadAbout)
	var lf loadFlags
	lf.register(fs, 0)
	var t loadTarget
	fs.StringVarP(&t.method, "method", "X", "", "HTTP method (default GET, or POST when there is a body)")
	fs.StringArrayVarP(&t.headers, "header", "H", nil, `request header "Name: value" (repeatable)`)
	fs.StringVar(&t.body, "body", "", "request body")
	fs.StringVar(&t.bodyFile, "body-file", "", "read the request body from this file")
	fs.IntVar(&t.size, "size", 64, "tcp:// only: bytes written and echoed per call")
	fs.BoolVar(&t.isMCP, "mcp", false, "URL is an MCP endpoint: call a tool")
	fs.StringVar(&t.tool, "tool", "echo", "--mcp: the tool to call")
	fs.StringVar(&t.args, "args", `{"message":"hello"}`, "--mcp: the tool's arguments, a JSON object")
	fs.StringVar(&t.protocol, "protocol", "auto", "--mcp: 2026-07-28 (stateless), 2025-11-25 (sessions), or auto (what the server offers)")
	fs.StringVar(&t.transport, "transport", "http", "--mcp: http (Streamable HTTP), sse (legacy HTTP+SSE), stdio (a command after --)")
	fs.StringVar(&t.client, "client", "", "OAuth client credentials ID:SECRET: discover the authorization server from the 401 and send bearer tokens"+secretHelp)
	fs.StringVar(&t.grant, "grant", "client_credentials", "OAuth: how tokens are got, client_credentials (--client ID:SECRET or a key), or authorization_code: the flow with PKCE MCP clients use, for authorization servers that approve without a person (test and conformance servers); it registers itself (RFC 7591) without --client")
	fs.StringVar(&t.clientKey, "client-key", "", "with --client ID: authenticate to the token endpoint with JWTs signed by this PEM private key (RFC 7523 private_key_jwt; ES256, RS256 or EdDSA by the key's type), not a secret: a file, @FILE or env:NAME")
	t.tlsf.register(fs)
	fs.StringVar(&t.shard, "shard", "", "I/N: be shard I (from 0) of N generators sharing the schedule: send requests I, I+N, … of it (the rate split evenly), on connections of its own; --requests counts the whole schedule's. Merge the N results with mcpbench merge")
	fs.StringVar(&t.startAt, "start-at", "", "start the schedule at this wall-clock instant (RFC 3339, or +DURATION from now), after the setup, so that shards start together; a generator that reaches it late refuses")
	fs.BoolVar(&t.http2, "http2", false, "call over HTTP/2: h2 by ALPN for https://, h2c (prior knowledge) for http://; each call a stream, --connections callers over --h2-conns connections (net/http's client, workers engine)")
	fs.IntVar(&t.h2Conns, "h2-conns", 1, "--http2: the TCP connections the callers share (Go is held to them: a caller past the server's stream limit waits)")
	fs.BoolVar(&t.newConn, "new-conn-per-call", false, "close the connection after every call (Connection: close), so that each call dials, and for https handshakes, anew: with --tls-resume a resumed handshake, without a full one (workers engine)")
	fs.BoolVar(&t.dpop, "dpop", false, "with --client: ask for DPoP-bound tokens (RFC 9449), proving possession of a key made for the run at the token endpoint and with a fresh proof on every call")
	fs.StringVar(&t.dpopAlg, "dpop-alg", "ES256", "--dpop: the proof key's algorithm, ES256 or EdDSA")
	fs.IntVar(&t.fresh, "fresh-tokens", 0, "with --client: fetch this many tokens ahead and use each for one call only (no cache can help)")
	fs.StringVar(&t.name, "name", "load", "the run's name in results")
	if err := parse(fs, args); err != nil {
		return err
	}
	if t.isMCP && t.transport == "stdio" {
		if fs.NArg() == 0 {
			return fmt.Errorf("%w: --transport stdio wants the server's command after --", errUsage)
		}
	} else if fs.NArg() != 1 {
		return fmt.Errorf("%w: want exactly one URL, got %d arguments", errUsage, fs.NArg())
	}
	if !t.isMCP && (t.transport != "http" || fs.Changed("tool") || fs.Changed("args") || fs.Changed("protocol")) {
		return fmt.Errorf("%w: --tool, --args, --protocol and --transport are for --mcp", errUsage)
	}
	target := fs.Arg(0)
	headers, err := parseHeaders(t.headers)
	if err != nil {
		return err
	}
	if t.tlsf.changed(fs) && !strings.HasPrefix(target, "https://") {
		return fmt.Errorf("%w: --cacert, --insecure and --tls-* are for https:// URLs", errUsage)
	}
	if t.newConn && (!strings.HasPrefix(target, "http") || t.isMCP && t.transport != "http") {
		return fmt.Errorf("%w: --new-conn-per-call is for http(s):// URLs (and --mcp over Streamable HTTP)", errUsage)
	}
	if t.http2 && (t.newConn || !strings.HasPrefix(target, "http") || t.isMCP && t.transport != "http") {
		return fmt.Errorf("%w: --http2 is for http(s):// URLs (and --mcp over Streamable HTTP), without --new-conn-per-call", errUsage)
	}
	if fs.Changed("h2-conns") && (!t.http2 || t.h2Conns < 1) {
		return fmt.Errorf("%w: --h2-conns is a count of at least 1, with --http2", errUsage)
	}
	if t.tls, err = t.tlsf.config(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	token, err := t.oauth(target)
	if err != nil {
		return err
	}
	cfg, err := lf.config(t.name)
	if err != nil {
		return err
	}
	cfg.Target = target
	if t.shard != "" {
		if cfg.Shard, err = bench.ParseShard(t.shard); err != nil {
			return fmt.Errorf("%w: --%v", errUsage, err)
		}
	}
	if t.startAt != "" {
		if cfg.StartAt, err = bench.ParseStartAt(t.startAt, time.Now()); err != nil {
			return fmt.Errorf("%w: --%v", errUsage, err)
		}
		if late := time.Since(cfg.StartAt); late > 0 {
			return fmt.Errorf("%w: --start-at %s passed %v ago: give a later instant (every shard must reach it, setup included)", errUsage, t.startAt, late.Round(time.Millisecond))
		}
	}
	if err := pinTo(lf.cpus); err != nil {
		return err
	}
	var d bench.Driver
	if t.isMCP {
		mc := mcp.Config{URL: target, Transport: t.transport, Protocol: t.protocol, Tool: t.tool,
			Arguments: json.RawMessage(t.args), Auth: t.authorizer(token), Header: headers, TLS: t.tls, NewConnPerCall: t.newConn,
			HTTP2: t.http2, H2Conns: t.h2Conns}
		if t.transport == "stdio" {
			mc.URL, mc.Command = "", fs.Args()
			cfg.Target = strings.Join(fs.Args(), " ")
		}
		if d, err = mcp.New(mc); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if r, ok := d.(bench.ServerCPUReader); ok {
			cfg.ServerCPU = r.ServerCPU // stdio: the servers the driver starts
		}
	} else if d, err = t.plainDriver(target, headers, token, lf.connections); err != nil {
		return err
	}
	defer d.Close()
	cfg.Driver = d
	return loadAndReport(ctx, &lf, cfg, t.dpopAuth)
}

// parseHeaders reads -H "Name: value" flags.
func parseHeaders(list []string) ([]driver.Header, error) {
	var out []driver.Header
	for _, h := range list {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%w: header %q: want \"Name: value\"", errUsage, h)
		}
		out = append(out, driver.Header{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out, nil
}

// oauth is the token source --client asks for, or nil.
func (t *loadTarget) oauth(target string) (bench.TokenSource, error) {
	code := t.grant == oauth.GrantAuthorizationCode
	if t.grant != oauth.GrantClientCredentials && !code {
		return nil, fmt.Errorf("%w: --grant is %s or %s, not %q", errUsage, oauth.GrantClientCredentials, oauth.GrantAuthorizationCode, t.grant)
	}
	if t.client == "" && !code {
		if t.fresh > 0 || t.dpop {
			return nil, fmt.Errorf("%w: --fresh-tokens and --dpop need --client (or --grant authorization_code)", errUsage)
		}
		return nil, nil
	}
	cfg := oauth.Config{Resource: target, FreshTokens: t.fresh, Grant: t.grant}
	if strings.HasPrefix(target, "https://") {
		cfg.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: t.tls}}
	}
	if t.dpop {
		key, err := dpop.NewKey(t.dpopAlg)
		if err != nil {
			return nil, fmt.Errorf("%w: --dpop-alg: %v", errUsage, err)
		}
		cfg.TokenRequest, cfg.TokenType = &driver.DPoP{Key: key}, "DPoP"
		t.dpopAuth = &driver.DPoP{Key: key}
	}
	if t.clientKey != "" {
		if strings.Contains(t.client, ":") {
			return nil, fmt.Errorf("%w: with --client-key, --client is the client id alone (the key replaces the secret)", errUsage)
		}
		key, err := readClientKey(t.clientKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		cfg.ClientID, cfg.ClientKey = t.client, key
	} else if code && !strings.Contains(t.client, ":") {
		cfg.ClientID = t.client // a public client, or "": it registers itself
	} else {
		id, secret, err := readCredentials("client", t.client)
		if err != nil {
			return nil, fmt.Errorf("%w: %v (or give --client-key)", errUsage, err)
		}
		cfg.ClientID, cfg.ClientSecret = id, secret
	}
	o, err := oauth.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if t.dpopAuth != nil {
		t.dpopAuth.Tokens = o
	}
	return o, nil
}

// authorizer puts token's credentials on each request: a bearer token, or
// with --dpop the DPoP token and a proof.
func (t *loadTarget) authorizer(token bench.TokenSource) driver.Authorizer {
	if t.dpopAuth != nil {
		return t.dpopAuth
	}
	return driver.BearerOf(token)
}

// plainDriver calls a tcp:// echo or an http(s):// URL.
func (t *loadTarget) plainDriver(target string, headers []driver.Header, token bench.TokenSource, conns int) (bench.Driver, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%w: URL %q: %v", errUsage, target, err)
	}
	switch u.Scheme {
	case "tcp":
		if u.Host == "" {
			return nil, fmt.Errorf("%w: want tcp://host:port", errUsage)
		}
		return &tcpecho.Driver{Addr: u.Host, Size: t.size}, nil
	case "http", "https":
		hc := httpcall.Config{URL: target, Method: t.method, Connections: conns, Header: headers, Auth: t.authorizer(token), TLS: t.tls,
			NewConnPerCall: t.newConn, HTTP2: t.http2, H2Conns: t.h2Conns}
		switch {
		case t.body != "" && t.bodyFile != "":
			return nil, fmt.Errorf("%w: --body and --body-file: give one", errUsage)
		case t.body != "":
			hc.Body = []byte(t.body)
		case t.bodyFile != "":
			b, err := os.ReadFile(t.bodyFile)
			if err != nil {
				return nil, err
			}
			hc.Body = b
		}
		d, err := httpcall.New(hc)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: URL %q: the scheme must be http, https or tcp", errUsage, target)
}

// loadAndReport runs cfg and reports it.
func loadAndReport(ctx context.Context, lf *loadFlags, cfg bench.Config, dp *driver.DPoP) error {
	res, runErr := bench.Run(ctx, cfg)
	lf.prog.end()
	if res == nil {
		if runErr != nil && strings.Contains(runErr.Error(), "HTTP 401") {
			return fmt.Errorf("%w\n(the server wants a bearer token: give --client ID:SECRET to get one from its authorization server)", runErr)
		}
		return runErr
	}
	if cfg.ServerCPU == nil {
		res.ServerCPUNote = bench.CPUNoteExternal
	}
	if dp != nil {
		if n, took := dp.Signing(); n > 0 {
			fmt.Fprintf(errOut, "DPoP: %d proofs signed (%s), %s each: the client's cost per call, in the generator's CPU\n",
				n, dp.Key.Alg(), results.FormatNs(int64(took)/n))
		}
	}
	host := results.ThisHost()
	host.GeneratorCPUs = lf.cpus
	return reportLoad(ctx, "load", lf, results.NewSummary(os.Args, host, res), runErr)
}

// report prints a summary and saves it; it turns an interrupted or
// unbalanced run into the error that sets the exit code, after both.
func reportLoad(ctx context.Context, command string, lf *loadFlags, s *results.Summary, runErr error) error {
	var dir string
	var saveErr error
	if !lf.noSave {
		s.Files = map[string][]byte{"report.html": report.HTML(s, report.LoadCharts(s))}
		dir, saveErr = saveResults(command, lf.out, s)
	}
	if lf.format == "json" {
		if err := printJSON(s); err != nil {
			return err
		}
	} else {
		if err := results.WriteTable(out, s.Runs); err != nil {
			return err
		}
	}
	for _, r := range s.Runs {
		if lf.format != "json" {
			fmt.Fprintf(errOut, "%s: %s\n", r.Name, engineLine(r))
			if r.TLS != nil {
				fmt.Fprintf(errOut, "%s: %s\n", r.Name, tlsLine(r.TLS))
			}
			if h := r.HTTP2; h != nil {
				fmt.Fprintf(errOut, "%s: HTTP/2, %d callers as streams over %s (%d dialed; the server allows %d streams a connection)\n",
					r.Name, h.Streams, plural(h.Connections, "connection"), h.Dials, h.ServerMaxStreams)
			}
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(errOut, "warning: %s: %s\n", r.Name, w)
		}
	}
	if saveErr != nil { // after the figures, so that they are not lost too
		return fmt.Errorf("writing results: %w", saveErr)
	}
	if dir != "" {
		fmt.Fprintf(errOut, "results: %s\n", dir)
	}
	switch {
	case runErr != nil:
		return runErr
	case ctx.Err() != nil:
		return errors.New("interrupted: what was measured until then is reported above")
	}
	return nil
}

// engineLine says what made a run's calls.
func engineLine(r *bench.Result) string {
	stamps := ""
	if r.ReplyTimes == "kernel" {
		stamps = "; replies timed by the kernel's receive timestamps"
	}
	switch {
	case r.Engine == bench.EngineWorkers:
		return "calls made by workers, a goroutine per connection"
	case r.Engine != bench.EngineLoop:
		return "calls made by " + r.Engine
	case r.Batch == "" || r.Batch == "0s":
		return "calls made by the event loop, each request sent when due"
	case r.Batch == "auto":
		return "calls made by the event loop, batching window auto (none below 2,000/s, else 1ms): requests leave up to that late, and the lag counts" + stamps
	}
	return "calls made by the event loop, batching window " + r.Batch + ": requests leave up to " + r.Batch + " late, and the lag counts" + stamps
}

// plural is n and noun, with an s when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
