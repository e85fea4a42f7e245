package orchestrate

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/oauth"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/scenario"
	"github.com/mcpbench/mcpbench/internal/dpop"
	"github.com/mcpbench/mcpbench/internal/jwtkey"
	"github.com/mcpbench/mcpbench/internal/tlsca"
)

// Env is where a scenario's servers run: the mcpbench executable that
// serves them (`mcpbench serve KIND`), and the CPUs they get.
type Env struct {
	// Exe is the mcpbench binary; empty means this program.
	Exe string
	// ServerCPUs pins every server; empty leaves them unpinned.
	ServerCPUs []int
	// Stderr receives the servers' stderr; nil discards it.
	Stderr io.Writer
	// Grace is how long a server gets to stop on SIGTERM; 0 means 5s.
	Grace time.Duration
}

// The client the harness authenticates as, and the one the resource
// servers introspect with. Secrets are made fresh for every run.
const (
	benchClient = "mcpbench"
	// benchKeyClient is the same harness authenticating with JWT
	// assertions signed by the run's client key.
	benchKeyClient   = "mcpbench-key"
	introspectClient = "resource"
)

// infra starts what variants share (authorization servers by algorithm
// and token kind, the REST upstream) once, and stops everything at the end.
type infra struct {
	env       Env
	mu        sync.Mutex
	procs     []*proc.Proc
	issuers   map[string]*issuer
	rest      string
	restProc  *proc.Proc
	upstreams map[int]upstream // by replica count
	secrets   struct{ bench, introspect, apiKey, hmac string }
	// clientKey signs the harness's JWT assertions (client_auth
	// private_key_jwt); every authorization server knows its public half.
	clientKey    *ecdsa.PrivateKey
	clientPublic []byte
	// ca issues the certificates of the servers a variant with tls
	// serves; made at the first, with certDir holding their files.
	ca      *tlsca.CA
	certDir string
}

type issuer struct {
	url  string
	proc *proc.Proc
}

func newInfra(env Env) *infra {
	in := &infra{env: env, issuers: map[string]*issuer{}}
	in.secrets.bench = randomHex(16)
	in.secrets.introspect = randomHex(16)
	in.secrets.apiKey = randomHex(16)
	in.secrets.hmac = randomHex(32)
	in.clientKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	in.clientPublic, _ = jwtkey.PublicPEM(in.clientKey.Public())
	return in
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// start runs `mcpbench serve args…` on the server CPUs.
func (in *infra) start(ctx context.Context, args ...string) (*proc.Proc, error) {
	if len(in.env.ServerCPUs) > 0 {
		args = append(args, "--cpus", proc.FormatCPUList(in.env.ServerCPUs))
	}
	p, err := proc.Start(ctx, proc.Options{Path: in.env.Exe, Args: append([]string{"serve"}, args...), Stderr: in.env.Stderr, Env: in.secretEnv()})
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	in.procs = append(in.procs, p)
	in.mu.Unlock()
	return p, nil
}

// The run's secrets reach its servers by environment, named on their
// command lines as env:NAME: a command line is world-readable, an
// environment only by its owner.
const (
	envBenchSecret      = "MCPBENCH_BENCH_SECRET"
	envIntrospectSecret = "MCPBENCH_INTROSPECT_SECRET"
	envHMACSecret       = "MCPBENCH_HMAC_SECRET"
	envClientPublicKey  = "MCPBENCH_CLIENT_PUBLIC_KEY"
)

func (in *infra) secretEnv() []string {
	return []string{envBenchSecret + "=" + in.secrets.bench, envIntrospectSecret + "=" + in.secrets.introspect,
		scenario.EnvAPIKey + "=" + in.secrets.apiKey, envHMACSecret + "=" + in.secrets.hmac, envClientPublicKey + "=" + string(in.clientPublic)}
}

// stopAll stops every server, last started first, and says which failed.
func (in *infra) stopAll() []error {
	in.mu.Lock()
	defer in.mu.Unlock()
	grace := in.env.Grace
	if grace == 0 {
		grace = 5 * time.Second
	}
	var errs []error
	for i := len(in.procs) - 1; i >= 0; i-- {
		if err := in.procs[i].Stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	in.procs = nil
	if in.certDir != "" {
		os.RemoveAll(in.certDir)
		in.certDir = ""
	}
	return errs
}

// tlsArgs are the serve flags of a server that serves HTTPS with a
// certificate (ECDSA P-256) the run's CA issues for it, made now.
func (in *infra) tlsArgs() ([]string, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ca == nil {
		ca, err := tlsca.New()
		if err != nil {
			return nil, fmt.Errorf("the run's CA: %w", err)
		}
		dir, err := os.MkdirTemp("", "mcpbench-certs-")
		if err != nil {
			return nil, err
		}
		in.ca, in.certDir = ca, dir
	}
	chain, key, err := in.ca.Issue("ecdsa")
	if err != nil {
		return nil, fmt.Errorf("a server certificate: %w", err)
	}
	certFile, err := os.CreateTemp(in.certDir, "cert-*.pem")
	if err != nil {
		return nil, err
	}
	keyFile := strings.TrimSuffix(certFile.Name(), ".pem") + ".key"
	_, err = certFile.Write(chain)
	certFile.Close()
	if err == nil {
		err = os.WriteFile(keyFile, key, 0o600)
	}
	if err != nil {
		return nil, err
	}
	return []string{"--tls", "--cert", certFile.Name(), "--key", keyFile}, nil
}

// replicaPaths are the paths the stacks serve calls at, the part of the
// balancer's URL after its address.
var replicaPaths = map[string]string{"mcp": "/mcp", "gateway": "/tools", "graphql": "/graphql", "rest": "/tools"}

// replicas starts v.Replicas servers of serveArgs and HAProxy balancing
// them, and returns the balancer first, then the replicas. A protected
// replica's audience is the balancer's URL: the one its clients call.
func (in *infra) replicas(ctx context.Context, v *scenario.Variant, serveArgs []string, protected bool) ([]*proc.Proc, []string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close() // the balancer binds it once the replicas are up
	path := replicaPaths[v.Stack]
	if protected {
		serveArgs = append(slices.Clip(serveArgs), "--audience", "http://"+addr+path)
	}
	lbArgs := []string{"lb", "--addr", addr, "--path", path, "--balance", cmp.Or(v.Balance, "roundrobin")}
	var reps []*proc.Proc
	var stats []string
	for range v.Replicas {
		statsArgs, statsURL, err := statsAddr()
		if err != nil {
			return nil, nil, err
		}
		p, err := in.start(ctx, append(slices.Clip(serveArgs), statsArgs...)...)
		if err != nil {
			return nil, nil, err
		}
		stats = append(stats, statsURL)
		reps = append(reps, p)
		u, _ := neturl.Parse(p.URL())
		lbArgs = append(lbArgs, "--backend", "http://"+u.Host)
	}
	lb, err := in.start(ctx, lbArgs...)
	if err != nil {
		return nil, nil, fmt.Errorf("load balancer: %w", err)
	}
	return append([]*proc.Proc{lb}, reps...), stats, nil
}

// statsAddr is the --stats-addr flag of a server, on a port free now, and
// the URL its counts are read at.
func statsAddr() ([]string, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return []string{"--stats-addr", addr}, "http://" + addr + "/stats", nil
}

// readStats sums the servers' token-check counts; nil when there are
// none to read or one cannot be read.
func readStats(urls []string) map[string]int64 {
	if len(urls) == 0 {
		return nil
	}
	sum := map[string]int64{}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, u := range urls {
		resp, err := client.Get(u)
		if err != nil {
			return nil
		}
		var c map[string]int64
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil {
			return nil
		}
		for k, v := range c {
			sum[k] += v
		}
	}
	return sum
}

// clientTLS is the generator's TLS configuration for a variant: the run's
// CA as its only root, and, but for full handshakes, a session cache.
func (in *infra) clientTLS(v *scenario.Variant) *tls.Config {
	cfg := &tls.Config{RootCAs: in.ca.Pool()}
	if id, ok := tlsca.Group(v.TLSGroup); ok {
		cfg.CurvePreferences = []tls.CurveID{id}
	}
	if v.TLS != "full" {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return cfg
}

// issuer returns the authorization server for alg and token kind.
func (in *infra) issuer(ctx context.Context, alg, tokens string) (*issuer, error) {
	key := alg + "/" + tokens
	if is, ok := in.issuers[key]; ok {
		return is, nil
	}
	args := []string{"authserver", "--alg", alg, "--tokens", tokens, "--ttl", "1h",
		"--client", benchClient + ":env:" + envBenchSecret, "--client", introspectClient + ":env:" + envIntrospectSecret,
		"--client-key", benchKeyClient + ":env:" + envClientPublicKey}
	if alg == "HS256" {
		args = append(args, "--hmac-secret", "env:"+envHMACSecret)
	}
	p, err := in.start(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("authorization server: %w", err)
	}
	is := &issuer{url: p.URL(), proc: p}
	in.issuers[key] = is
	return is, nil
}

// Upstream returns the REST upstream the gateways front: one server, or
// with replicas > 0 that many behind HAProxy, each started once.
func (in *infra) Upstream(ctx context.Context, replicas int) (string, error) {
	if replicas > 0 {
		if up, ok := in.upstreams[replicas]; ok {
			return up.url, nil
		}
		v := scenario.Variant{Stack: "rest", Replicas: replicas}
		procs, _, err := in.replicas(ctx, &v, []string{"rest"}, false)
		if err != nil {
			return "", fmt.Errorf("REST upstream replicas: %w", err)
		}
		if in.upstreams == nil {
			in.upstreams = map[int]upstream{}
		}
		in.upstreams[replicas] = upstream{url: strings.TrimSuffix(procs[0].URL(), "/tools"), procs: procs}
		return in.upstreams[replicas].url, nil
	}
	if in.rest != "" {
		return in.rest, nil
	}
	p, err := in.start(ctx, "rest")
	if err != nil {
		return "", fmt.Errorf("REST upstream: %w", err)
	}
	in.rest, in.restProc = strings.TrimSuffix(p.URL(), "/tools"), p
	return in.rest, nil
}

// upstreamProcs are the processes of the upstream a gateway variant
// fronts, for its server CPU.
func (in *infra) upstreamProcs(v *scenario.Variant) []cpuSource {
	if v.UpstreamReplicas > 0 {
		var out []cpuSource
		for _, p := range in.upstreams[v.UpstreamReplicas].procs {
			out = append(out, p)
		}
		return out
	}
	return []cpuSource{in.restProc}
}

// upstream is a REST upstream of replicas: its balancer's URL, and the
// balancer's and replicas' processes.
type upstream struct {
	url   string
	procs []*proc.Proc
}

// Exe is the mcpbench binary the servers are started from.
func (in *infra) Exe() string { return in.env.Exe }

// ServerCPUs are the CPUs the servers are pinned to.
func (in *infra) ServerCPUs() []int { return in.env.ServerCPUs }

// authArgs are the serve flags of a protected server.
func (in *infra) authArgs(ctx context.Context, v *scenario.Variant) ([]string, *issuer, error) {
	if v.Auth != "jwt" && v.Auth != "introspect" {
		return nil, nil, nil
	}
	is, err := in.issuer(ctx, v.Alg, v.Tokens)
	if err != nil {
		return nil, nil, err
	}
	args := []string{"--auth", v.Auth, "--issuer", is.url}
	if v.Auth == "introspect" {
		args = append(args, "--introspect-client", introspectClient+":env:"+envIntrospectSecret)
	}
	if v.Alg == "HS256" {
		args = append(args, "--hmac-secret", "env:"+envHMACSecret)
	}
	if v.Cache {
		args = append(args, "--auth-cache")
	}
	if v.DPoP != "" {
		args = append(args, "--dpop", v.DPoP)
	}
	return args, is, nil
}

// instance is one variant, started: its server and its driver.
type instance struct {
	v      scenario.Variant
	server *proc.Proc // nil for an external URL and for stdio
	// path are the processes that work for each call: the server, and the
	// upstream behind a gateway, the authorization server for
	// introspection; for stdio and an external command, which have no
	// server of the scenario's, the servers the driver started. Server
	// CPU per call is theirs together; none for an external URL.
	path   []cpuSource
	driver bench.Driver
	oauth  *oauth.Client
	stats  []string   // the servers' --stats-addr URLs
	issuer *proc.Proc // the variant's authorization server, if any
}

// cpuSource reads the CPU time some processes have used so far: a
// *proc.Proc, or a driver's servers (driverCPU).
type cpuSource interface {
	CPUTime() (time.Duration, error)
}

// driverCPU is the CPU time of the servers a driver started.
type driverCPU struct{ r bench.ServerCPUReader }

func (d driverCPU) CPUTime() (time.Duration, error) { return d.r.ServerCPU() }

// cpu is the CPU time of the processes on the call path.
func (inst *instance) cpu() (time.Duration, error) {
	var total time.Duration
	for _, p := range inst.path {
		t, err := p.CPUTime()
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}

// cpuNote is the ServerCPUNote of the variant's results: why its server
// CPU is not measured, "" when it is (something on the call path to read).
func (inst *instance) cpuNote() string {
	if len(inst.path) > 0 {
		return ""
	}
	if inst.v.URL != "" {
		return bench.CPUNoteExternal
	}
	return "not measured: no process on the call path to read"
}

// launch starts a variant's server (and what it needs) and its driver.
// calls is how many calls one segment makes at most: the fresh-token
// pool that each segment tops up.
func (in *infra) launch(ctx context.Context, v scenario.Variant, w scenario.Workload, l scenario.LoadSpec, calls int) (*instance, error) {
	inst := &instance{v: v}
	authArgs, is, err := in.authArgs(ctx, &v)
	if err != nil {
		return nil, err
	}
	kind := scenario.StackKinds[v.Stack]
	var serveArgs []string
	if kind.Serve != nil {
		if serveArgs, err = kind.Serve(ctx, in, &v, authArgs); err != nil {
			return nil, err
		}
	}
	if serveArgs != nil {
		serveArgs = append(serveArgs, rateLimitArgs(&v)...)
		if v.TLS != "" {
			certArgs, err := in.tlsArgs()
			if err != nil {
				return nil, err
			}
			serveArgs = append(serveArgs, certArgs...)
		}
	}
	url := v.URL
	var command []string
	if kind.Command != nil {
		command = kind.Command(in, &v)
	}
	switch {
	case command != nil:
	case serveArgs != nil && v.Replicas > 0:
		lb, stats, err := in.replicas(ctx, &v, serveArgs, authArgs != nil)
		if err != nil {
			return nil, err
		}
		inst.stats = stats
		inst.server, url = lb[0], lb[0].URL()
		for _, p := range lb {
			inst.path = append(inst.path, p)
		}
		if kind.Upstream {
			inst.path = append(inst.path, in.upstreamProcs(&v)...)
		}
		if v.Auth == "introspect" {
			inst.path = append(inst.path, is.proc)
		}
	case serveArgs != nil:
		statsArgs, statsURL, err := statsAddr()
		if err != nil {
			return nil, err
		}
		p, err := in.start(ctx, append(slices.Clip(serveArgs), statsArgs...)...)
		if err != nil {
			return nil, err
		}
		inst.stats = []string{statsURL}
		inst.server, url = p, p.URL()
		inst.path = append(inst.path, p)
		if kind.Upstream {
			inst.path = append(inst.path, in.upstreamProcs(&v)...)
		}
		if v.Auth == "introspect" {
			inst.path = append(inst.path, is.proc) // it answers every introspection
		}
	}
	var token bench.TokenSource
	var authz driver.Authorizer // DPoP's; nil: bearer tokens from token
	if is != nil {
		inst.issuer = is.proc
		cfg := oauth.Config{Resource: url, ClientID: benchClient, ClientSecret: in.secrets.bench}
		if v.TLS != "" { // the resource's metadata is served over HTTPS
			cfg.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: in.clientTLS(&v)}}
		}
		if v.ClientAuth == "private_key_jwt" {
			cfg.ClientID, cfg.ClientSecret, cfg.ClientKey = benchKeyClient, "", in.clientKey
		}
		if v.FreshTokens {
			cfg.FreshTokens = calls
		}
		if v.Stack == "gateway" && v.Impl == "haproxy" { // HAProxy publishes no RFC 9728 metadata
			cfg.TokenEndpoint, cfg.Issuer = is.url+"/token", is.url
		}
		var dp *driver.DPoP
		if v.DPoP != "" {
			key, err := dpop.NewKey("ES256")
			if err != nil {
				return nil, err
			}
			cfg.TokenRequest, cfg.TokenType = &driver.DPoP{Key: key}, "DPoP"
			dp = &driver.DPoP{Key: key}
		}
		o, err := oauth.New(cfg)
		if err != nil {
			return nil, err
		}
		inst.oauth, token = o, o
		if dp != nil {
			dp.Tokens, authz = o, dp
		}
	}
	target := scenario.Target{URL: url, Command: command, Workload: w, Connections: l.Connections, Token: token, Authorizer: authz, APIKey: in.secrets.apiKey}
	if v.TLS != "" {
		target.TLS, target.NewConnPerCall = in.clientTLS(&v), v.TLS != "keep-alive"
	}
	target.HTTP2 = v.HTTP2
	inst.driver, err = driverFor(v, target)
	if err != nil {
		return nil, err
	}
	if r, ok := inst.driver.(bench.ServerCPUReader); ok && len(inst.path) == 0 {
		inst.path = append(inst.path, driverCPU{r}) // stdio, an external command
	}
	return inst, nil
}

func driverFor(v scenario.Variant, t scenario.Target) (bench.Driver, error) {
	k, ok := scenario.StackKinds[v.Stack]
	if !ok || k.Driver == nil {
		return nil, fmt.Errorf("stack %q has no driver", v.Stack)
	}
	return k.Driver(&v, t)
}

// rateLimitArgs is a limited stack's --rate-limit flag.
func rateLimitArgs(v *scenario.Variant) []string {
	if v.RateLimit <= 0 {
		return nil
	}
	return []string{"--rate-limit", strconv.FormatFloat(v.RateLimit, 'f', -1, 64)}
}
