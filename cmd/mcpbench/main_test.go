package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/internal/secret"
	"github.com/mcpbench/mcpbench/servers/gateway"
	"github.com/mcpbench/mcpbench/servers/null"
)

// The test binary doubles as mcpbench, so that floor can start servers as
// children of it: with MCPBENCH_AS_MAIN set it runs Main instead of tests.
func TestMain(m *testing.M) {
	if os.Getenv("MCPBENCH_AS_MAIN") != "" {
		if log := os.Getenv("MCPBENCH_TEST_ARGV_LOG"); log != "" { // what a child was started with
			if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
				f.WriteString(strings.Join(os.Args[1:], " ") + "\n")
				f.Close()
			}
		}
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"no command", nil, 2, "Commands:"},
		{"help", []string{"--help"}, 0, "Commands:"},
		{"unknown command", []string{"attack"}, 2, `unknown command "attack"`},
		{"load help", []string{"load", "--help"}, 0, "requests per second"},
		{"serve help", []string{"serve", "--help"}, 0, "tcpecho"},
		{"floor help", []string{"floor", "--help"}, 0, "(default 5s)"},
		{"version", []string{"version"}, 0, "mcpbench "},
		{"version commit", []string{"version"}, 0, "\ncommit       " + bench.ThisBuild().Commit + "\n"},
		{"version dirty", []string{"version"}, 0, "\ndirty        " + bench.ThisBuild().DirtyString() + "\n"},
		{"version go", []string{"version"}, 0, "\ngo           go1."},
		{"version host", []string{"version"}, 0, "\nhost         "},
		{"load without URL", []string{"load", "--rate", "10"}, 2, "want exactly one URL"},
		{"load bad flag", []string{"load", "http://127.0.0.1:1/", "--rate", "ten"}, 2, "invalid argument"},
		{"load negative rate", []string{"load", "http://127.0.0.1:1/", "--rate", "-5"}, 2, "--rate must be positive"},
		{"load closed with rate", []string{"load", "http://127.0.0.1:1/", "--closed", "--rate", "5"}, 2, "drop --rate"},
		{"load bad scheme", []string{"load", "ftp://127.0.0.1:1/", "--rate", "5"}, 2, "scheme must be"},
		{"load bad header", []string{"load", "http://127.0.0.1:1/", "--rate", "5", "-H", "nocolon"}, 2, `want "Name: value"`},
		{"load endless", []string{"load", "http://127.0.0.1:1/", "--rate", "5", "-d", "0"}, 2, "so that the run ends"},
		{"serve unknown kind", []string{"serve", "gopher"}, 2, `unknown server kind "gopher"`},
		{"serve bad cpus", []string{"serve", "http", "--cpus", "x"}, 2, "--cpus"},
		{"floor closed", []string{"floor", "--closed"}, 2, "drop --closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, o, e := run(t, tc.args...)
			if code != tc.code || !strings.Contains(o+e, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, o, e)
			}
		})
	}
}

func nullServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { null.ServeHTTP(ctx, ln, null.HTTPOptions{}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String() + "/"
}

func TestLoadWritesResults(t *testing.T) {
	url := nullServer(t)
	dir := filepath.Join(t.TempDir(), "out")
	code, o, e := run(t, "load", url, "--rate", "500", "-n", "100", "-d", "0", "--warmup", "0", "-o", dir, "--format", "json", "--name", "null")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, o, e)
	}
	var s results.Summary
	if err := json.Unmarshal([]byte(o), &s); err != nil {
		t.Fatalf("--format json printed no summary: %v\n%s", err, o)
	}
	if len(s.Runs) != 1 || s.Runs[0].Accounting.Scheduled != 100 || s.Runs[0].Accounting.OK != 100 || s.Runs[0].Model != "open" {
		t.Errorf("summary: %+v", s.Runs)
	}
	if r := s.Runs[0]; r.ServerCPU != 0 || r.ServerCPUNote != bench.CPUNoteExternal {
		t.Errorf("a URL's server CPU: %v, note %q (want %q)", r.ServerCPU, r.ServerCPUNote, bench.CPUNoteExternal)
	}
	for _, f := range []string{"summary.json", "null.hgrm", "null.hlog", "timeseries.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(e, "results: "+dir) {
		t.Errorf("stderr does not say where the results are: %q", e)
	}
	// The directory exists now: a second run refuses it before it starts.
	if code, _, e := run(t, "load", url, "--rate", "500", "-n", "10", "--warmup", "0", "-o", dir); code != 2 || !strings.Contains(e, "exists") {
		t.Errorf("second run into the same dir: exit %d, %s", code, e)
	}
}

func TestLoadClosedTable(t *testing.T) {
	url := nullServer(t)
	code, o, e := run(t, "load", url, "--closed", "-c", "2", "-n", "200", "-d", "0", "--warmup", "0", "--no-save")
	if code != 0 || !strings.Contains(o, "closed") || !strings.Contains(o, "p99.99") {
		t.Errorf("exit %d\n%s%s", code, o, e)
	}
}

func TestLoadUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	code, o, e := run(t, "load", "http://"+addr+"/", "--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json")
	var s results.Summary
	if err := json.Unmarshal([]byte(o), &s); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, o, e)
	}
	a := s.Runs[0].Accounting
	if a.Scheduled != 20 || a.ByClass["transport"] != 20 {
		t.Errorf("accounting %+v; want 20 scheduled, 20 transport errors", a)
	}
}

// TestServeContract runs `mcpbench serve` as a process: the first stdout
// line is "listening URL", the URL serves, SIGTERM stops it cleanly.
func TestServeContract(t *testing.T) {
	for _, kind := range []string{"http", "echo", "tcpecho"} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "serve", kind)
			cmd.Env = append(os.Environ(), "MCPBENCH_AS_MAIN=1")
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
			if !ok {
				t.Fatalf("first line %q", line)
			}
			code, o, e := run(t, "load", url, "--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json")
			if code != 0 || !strings.Contains(o, `"ok": 20`) {
				t.Errorf("load of %s: exit %d\n%s%s", url, code, o, e)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve exited with %v after SIGTERM", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("serve did not stop on SIGTERM")
			}
		})
	}
}

func TestFloor(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1") // children of this test binary run Main
	dir := filepath.Join(t.TempDir(), "floor")
	code, o, e := run(t, "floor", "-d", "1s", "--warmup", "200ms", "--rate", "300", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, o, e)
	}
	for _, row := range []string{"tcp-echo", "http-minimal", "http-minimal-closed"} {
		if !strings.Contains(o, row) {
			t.Errorf("table lacks %s:\n%s", row, o)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Runs {
		if r.Accounting.OK == 0 || r.Accounting.Errors != 0 || r.ServerCPU <= 0 {
			t.Errorf("%s: %+v, server CPU %v, warnings %v", r.Name, r.Accounting, r.ServerCPU, r.Warnings)
		}
	}
	if s.Host.ServerCPUs == "" || s.Host.GeneratorCPUs == "" {
		t.Errorf("summary does not say which CPUs each side had: %+v", s.Host)
	}
}

// startServe runs `mcpbench serve args...` as a process and returns the
// URL it printed; the process is stopped when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "MCPBENCH_AS_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve %v: %v\n%s", args, err, stderr.String())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	return url
}

func TestServeAuthServer(t *testing.T) {
	url := startServe(t, "authserver", "--client", "bench:pw", "--alg", "ES256", "--ttl", "2m")
	resp, err := http.Get(url + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["issuer"] != url || meta["token_endpoint"] != url+"/token" {
		t.Errorf("metadata %v", meta)
	}
	req, _ := http.NewRequest("POST", url+"/token", strings.NewReader("grant_type=client_credentials&resource=http%3A%2F%2F127.0.0.1%3A1%2Fmcp"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bench", "pw")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["expires_in"] != 120.0 || tok["token_type"] != "Bearer" {
		t.Errorf("%d %v", resp.StatusCode, tok)
	}
	// --issuer: the URL clients reach it by, named in its metadata.
	named := startServe(t, "authserver", "--client", "bench:pw", "--issuer", "http://authserver.mcpbench.svc:9000/")
	if resp, err := http.Get(named + "/.well-known/oauth-authorization-server"); err != nil {
		t.Error(err)
	} else {
		var meta map[string]any
		json.NewDecoder(resp.Body).Decode(&meta)
		resp.Body.Close()
		if meta["issuer"] != "http://authserver.mcpbench.svc:9000" || meta["token_endpoint"] != "http://authserver.mcpbench.svc:9000/token" {
			t.Errorf("--issuer: metadata %v", meta)
		}
	}
	if code, _, e := run(t, "serve", "authserver", "--alg", "HS256", "--client", "a:b"); code != 2 || !strings.Contains(e, "--hmac-secret") {
		t.Errorf("HS256 without a secret: exit %d %s", code, e)
	}
	t.Setenv("MCPBENCH_TEST_EMPTY", "")
	for _, bad := range []string{"a:env:MCPBENCH_TEST_UNSET", "a:env:MCPBENCH_TEST_EMPTY", "a:@/nonexistent/secret"} {
		if code, _, e := run(t, "serve", "authserver", "--client", bad); code != 2 || !strings.Contains(e, "--client "+bad[2:]) {
			t.Errorf("--client %s: exit %d %s", bad, code, e)
		}
	}
}

// TestServeGateway: a REST upstream behind the Go gateway, loaded through
// it with and without the API key.
func TestServeGateway(t *testing.T) {
	up := startServe(t, "rest") // http://…/tools, taken as it is printed
	gw := startServe(t, "gateway", "--upstream", up, "--auth", "apikey", "--api-key", "k1")
	args := []string{"load", gw + "/echo", "-X", "POST", "-H", "Content-Type: application/json", "--body", `{"message":"x"}`,
		"--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json"}
	code, o, e := run(t, append(args, "-H", "X-API-Key: k1")...)
	if code != 0 || !strings.Contains(o, `"ok": 20`) {
		t.Errorf("with the key: exit %d\n%s%s", code, o, e)
	}
	code, o, e = run(t, args...)
	if code != 0 || !strings.Contains(o, `"http": 20`) {
		t.Errorf("without the key: exit %d\n%s%s", code, o, e)
	}
	for _, bad := range [][]string{
		{"gateway"},
		{"gateway", "--upstream", up, "--auth", "apikey"},
		{"gateway", "--upstream", up, "--auth", "jwt"},
		{"gateway", "--upstream", up, "--impl", "nginx"},
		{"gateway", "--upstream", up + "/echo", "--auth", "apikey", "--api-key", "k1"},
		{"gateway", "--upstream", "https://127.0.0.1:1", "--auth", "apikey", "--api-key", "k1"},
	} {
		if code, _, _ := run(t, append([]string{"serve"}, bad...)...); code != 2 {
			t.Errorf("serve %v: exit %d, want 2", bad, code)
		}
	}
}

// TestUpstreamBase: both gateways take the upstream as serve rest prints
// it, or as host and port, and nothing else.
func TestUpstreamBase(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:9001":        "http://127.0.0.1:9001",
		"http://127.0.0.1:9001/":       "http://127.0.0.1:9001",
		"http://127.0.0.1:9001/tools":  "http://127.0.0.1:9001",
		"http://127.0.0.1:9001/tools/": "http://127.0.0.1:9001",
		"http://127.0.0.1:9001/other":  "",
		"http://127.0.0.1":             "",
		"https://127.0.0.1:9001":       "",
		"http://127.0.0.1:9001/?x=1":   "",
		"http://%zz":                   "",
	} {
		if got, err := upstreamBase(raw); got != want || (err != nil) != (want == "") {
			t.Errorf("%q: %q, %v; want %q", raw, got, err, want)
		}
	}
}

// TestServeHAProxyFailsBeforeListening: HAProxy's set-up failing (here the
// issuer cannot be reached for its key) is an error exit with no
// "listening" line, so that nothing waits on a server that is not there.
func TestServeHAProxyFailsBeforeListening(t *testing.T) {
	if _, err := gateway.HAProxyVersion(); err != nil {
		t.Skip("HAProxy is not installed (make tools-haproxy)")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	code, o, e := run(t, "serve", "gateway", "--impl", "haproxy", "--upstream", "http://127.0.0.1:9/tools", "--auth", "jwt", "--issuer", dead)
	if code == 0 || strings.Contains(o, "listening") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, o, e)
	}
}

// TestRunScenario: a small scenario end to end through child servers; the
// results directory holds the summary, report and charts; a missed
// threshold makes the exit status 1; report, plot and compare read the
// directory back.
func TestRunScenario(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv.log")
	t.Setenv("MCPBENCH_TEST_ARGV_LOG", argv)
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte(`
name: tiny
rounds: 2
segment: 300ms
warmup: 100ms
floor: true
load: {rate: 300, connections: 4}
baseline: rest
variants:
  - {name: rest, stack: rest}
  - {name: gw-apikey, stack: gateway, auth: apikey}
  - {name: gw-jwt, stack: gateway, auth: jwt, alg: ES256, client_auth: private_key_jwt}
thresholds:
  - {variant: "*", errors: 0.1%}
  - {variant: "gw-*", p50: 1ns}
`), 0o644)
	out := filepath.Join(dir, "out")
	code, o, e := run(t, "run", sc, "-o", out, "--progress", "off")
	if code != 1 || !strings.Contains(e, "threshold checks missed") {
		t.Fatalf("exit %d (want 1: a 1ns p50 is missed)\n%s%s", code, o, e)
	}
	for _, want := range []string{"gw-jwt", "floor-tcp", "Δp50", "MISSED gw-apikey p50", "gw-jwt adds"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	for _, f := range []string{"summary.json", "report.md", "spectrum.png", "overhead-p50.svg", "rest.hgrm", "rest.hlog", "gw-jwt.hlog", "timeseries.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	s, err := readResults(out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(sc); s.ScenarioSHA256 != fmt.Sprintf("%x", sha256.Sum256(b)) {
		t.Errorf("scenario_sha256 %q is not the file's", s.ScenarioSHA256)
	}
	// The servers got the run's secrets by environment: their command
	// lines (world-readable) name them as env:NAME, and the calls with the
	// key and tokens went through.
	lines, _ := os.ReadFile(argv)
	if !strings.Contains(string(lines), "--api-key env:") || !strings.Contains(string(lines), "--client mcpbench:env:") ||
		!strings.Contains(string(lines), "--client-key mcpbench-key:env:") {
		t.Errorf("child command lines:\n%s", lines)
	}
	for _, l := range strings.Split(string(lines), "\n") {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			if v := f[i+1]; secret.Redact(f[i : i+2])[1] != v {
				t.Errorf("a secret on a child's command line: %s", l)
			}
		}
	}
	// Order adjacent, 2 rounds: B a B j B floor floor, then B j B a B
	// floor floor (each compared segment between two of the baseline's).
	if len(s.Runs) != 5 || len(s.Segments) != 14 || s.Scenario.Failed != nil {
		t.Errorf("%d runs, %d segments, failed %v", len(s.Runs), len(s.Segments), s.Scenario.Failed)
	}
	for _, r := range s.Runs {
		if r.Accounting.OK == 0 || r.Accounting.Errors != 0 || r.ServerCPUCall <= 0 {
			t.Errorf("%s: %+v, server CPU/call %v", r.Name, r.Accounting, r.ServerCPUCall)
		}
	}
	// gw-jwt's tokens came by JWT client assertions (RFC 7523).
	for _, v := range s.Scenario.Variants {
		if v.Name == "gw-jwt" && v.Labels["client_auth"] != "private_key_jwt" {
			t.Errorf("gw-jwt labels %v", v.Labels)
		}
	}
	if code, o, e := run(t, "report", out); code != 0 || !strings.Contains(o, "gw-jwt") {
		t.Errorf("report: %d\n%s%s", code, o, e)
	}
	if code, o, e := run(t, "plot", out); code != 0 || !strings.Contains(o, "spectrum.png") {
		t.Errorf("plot: %d\n%s%s", code, o, e)
	}
	if code, o, e := run(t, "compare", out, out); code != 0 || !strings.Contains(o, "+0.0%") || !strings.Contains(o, "the machine, A → B: rest server CPU per call") || !strings.Contains(o, "(+0.0%); floor-tcp p50") {
		t.Errorf("compare: %d\n%s%s", code, o, e)
	}
	page := filepath.Join(dir, "compare.html")
	if code, _, e := run(t, "compare", out, out, "--html", page); code != 0 {
		t.Errorf("compare --html: %d %s", code, e)
	} else if b, _ := os.ReadFile(page); !strings.Contains(string(b), "<td>gw-jwt</td>") || strings.Contains(string(b), `class="apart"`) {
		t.Errorf("compare.html:\n%s", b)
	}
	if code, _, e := run(t, "report", out, "--html"); code != 0 {
		t.Errorf("report --html: %d %s", code, e)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nload: {rate: -1}\nvariants: [{name: a, stack: rest}]\n"), 0o644)
	if code, _, e := run(t, "run", bad); code != 2 || !strings.Contains(e, "bad.yaml:2:") {
		t.Errorf("bad scenario: exit %d, %s", code, e)
	}
}

// TestRunFaults: a server killed in the middle of a run ends its variant
// (results kept, errors classified) while the others carry on; a stalled
// server shows in the tail; a key rotation fails no call.
func TestRunFaults(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	dir := t.TempDir()
	sc := filepath.Join(dir, "f.yaml")
	os.WriteFile(sc, []byte(`
name: faults
rounds: 2
segment: 1s
warmup: 100ms
load: {rate: 200, connections: 4, timeout: 2s}
baseline: steady
variants:
  - {name: steady, stack: rest}
  - {name: killed, stack: gateway, fault: kill, fault_at: 300ms}
  - {name: stalled, stack: rest, fault: stall, fault_at: 300ms, fault_for: 400ms}
  - {name: rotated, stack: gateway, auth: jwt, alg: ES256, fault: rotate-keys, fault_at: 200ms}
`), 0o644)
	s := mustRun(t, sc, filepath.Join(dir, "out"))
	if why := s.Scenario.Failed["killed"]; !strings.Contains(why, "server exited") {
		t.Errorf("killed variant: failed %q", why)
	}
	runs := map[string]*bench.Result{}
	for _, r := range s.Runs {
		runs[r.Name] = r
		if err := r.Accounting.Check(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
	if k := runs["killed"]; k == nil || k.Accounting.OK == 0 || k.Accounting.ByClass["transport"]+k.Accounting.ByClass["http"] == 0 {
		t.Errorf("killed: %+v; want its calls before the kill, and classified errors after", k)
	}
	if st := runs["stalled"]; st == nil || st.Response.Max < 300_000_000 || st.Accounting.Errors != 0 {
		t.Errorf("stalled: max %v, errors %d; want a tail of the 400ms stall and no errors", st.Response.Max, st.Accounting.Errors)
	}
	if r := runs["rotated"]; r == nil || r.Accounting.Errors != 0 || r.Accounting.OK == 0 {
		t.Errorf("rotated: %+v", r)
	}
	if st := runs["steady"]; st == nil || st.Accounting.OK == 0 || st.Accounting.Errors != 0 {
		t.Errorf("steady variant affected: %+v", st)
	}
}

// TestLoadMCP: load --mcp against the fast server, plain and protected
// (the OAuth client discovers the issuer from the 401).
func TestLoadMCP(t *testing.T) {
	as := startServe(t, "authserver", "--client", "bench:pw", "--alg", "ES256")
	plain := startServe(t, "mcp", "--impl", "fast")
	protected := startServe(t, "mcp", "--impl", "fast", "--auth", "jwt", "--issuer", as)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{plain}, `"ok": 30`},
		{"sse protocol 2025-11-25", []string{plain, "--protocol", "2025-11-25"}, `"ok": 30`},
		{"tool error", []string{plain, "--args", `{"message":5}`}, `"protocol -1": 30`},
		{"protected", []string{protected, "--client", "bench:pw"}, `"ok": 30`},
		{"protected, fresh tokens", []string{protected, "--client", "bench:pw", "--fresh-tokens", "40"}, `"ok": 30`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"load", "--mcp", "--rate", "300", "-n", "30", "--warmup", "0", "--no-save", "--format", "json"}, tc.args...)
			code, o, e := run(t, args...)
			if code != 0 || !strings.Contains(o, tc.want) {
				t.Errorf("exit %d, want %s\n%s%s", code, tc.want, o, e)
			}
		})
	}
	if code, _, e := run(t, "load", "--mcp", protected, "--rate", "5", "-n", "5"); code != 1 || !strings.Contains(e, "401") || !strings.Contains(e, "--client") {
		t.Errorf("protected without a token: exit %d %s", code, e)
	}
	if code, _, e := run(t, "load", plain, "--tool", "echo", "--rate", "5"); code != 2 || !strings.Contains(e, "are for --mcp") {
		t.Errorf("--tool without --mcp: %d %s", code, e)
	}
	if code, _, e := run(t, "load", "--mcp", "--transport", "stdio", "--rate", "5"); code != 2 || !strings.Contains(e, "command after --") {
		t.Errorf("stdio without a command: %d %s", code, e)
	}
}

// TestLoadStdioServerCPU: load over stdio reports the CPU time of the
// servers it started (issue 12: "-"), and no note.
func TestLoadStdioServerCPU(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1") // the command below is this binary as mcpbench
	code, o, e := run(t, "load", "--mcp", "--transport", "stdio", "-c", "2", "--rate", "300", "-n", "60", "--warmup", "0", "--no-save", "--format", "json",
		"--", os.Args[0], "serve", "mcp", "--impl", "sdk", "--transport", "stdio")
	var s results.Summary
	if err := json.Unmarshal([]byte(o), &s); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, o, e)
	}
	if r := s.Runs[0]; r.Accounting.OK != 60 || r.ServerCPU <= 0 || r.ServerCPUNote != "" || len(r.Warnings) > 0 {
		t.Errorf("accounting %+v, server CPU %v, note %q, warnings %q", r.Accounting, r.ServerCPU, r.ServerCPUNote, r.Warnings)
	}
}

// TestResultsNeverOverwritten: an -o that exists is refused before anything
// runs; one that appears while a run goes on gets its results beside it.
func TestResultsNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "s.yaml")
	os.WriteFile(sc, []byte("name: s\nload: {rate: 5}\nvariants: [{name: v, stack: rest}]\n"), 0o644)
	for _, args := range [][]string{
		{"run", sc, "-o", dir},
		{"load", "http://127.0.0.1:1/", "-n", "1", "-o", dir},
		{"floor", "-o", dir},
	} {
		start := time.Now()
		code, _, e := run(t, args...)
		if code != 2 || !strings.Contains(e, dir+" exists") || time.Since(start) > 5*time.Second {
			t.Errorf("%v: exit %d after %v: %s", args, code, time.Since(start), e)
		}
	}
	var stderr bytes.Buffer
	errOut = &stderr
	defer func() { errOut = os.Stderr }()
	s := results.NewSummary([]string{"mcpbench", "load"}, results.Host{})
	got, err := saveResults("load", dir, s)
	if err != nil || got != dir+"-2" || !strings.Contains(stderr.String(), "results go to "+dir+"-2") {
		t.Errorf("saved to %q (%v); stderr %q", got, err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir+"-2", "summary.json")); err != nil {
		t.Error(err)
	}
}

// TestLoadDPoP: end to end over real sockets, both MCP servers and the Go
// gateway with --dpop required take `load --client --dpop` (a
// DPoP-bound token, a fresh proof per call) and refuse its bearer tokens.
func TestLoadDPoP(t *testing.T) {
	as := startServe(t, "authserver", "--client", "bench:pw", "--alg", "ES256")
	upstream := strings.TrimSuffix(startServe(t, "rest"), "/tools")
	for _, srv := range []struct {
		name string
		args []string
		load []string
	}{
		{"fast MCP", []string{"mcp", "--impl", "fast", "--auth", "jwt", "--issuer", as, "--dpop", "required"}, []string{"--mcp"}},
		{"SDK MCP", []string{"mcp", "--impl", "sdk", "--auth", "jwt", "--issuer", as, "--dpop", "required"}, []string{"--mcp"}},
		{"Go gateway", []string{"gateway", "--impl", "go", "--upstream", upstream, "--auth", "jwt", "--issuer", as, "--dpop", "required"},
			[]string{"-X", "POST", "-H", "Content-Type: application/json", "--body", `{"message":"hi"}`}},
	} {
		t.Run(srv.name, func(t *testing.T) {
			url := startServe(t, srv.args...)
			if srv.name == "Go gateway" {
				url += "/echo"
			}
			for _, alg := range []string{"ES256", "EdDSA"} {
				code, o, e := run(t, append(append([]string{"load"}, srv.load...), url, "--client", "bench:pw", "--dpop", "--dpop-alg", alg,
					"--rate", "200", "-n", "40", "--warmup", "0", "--no-save", "--format", "json", "--progress", "off")...)
				var s struct {
					Runs []struct {
						Accounting struct{ OK, Errors uint64 }
					}
				}
				json.Unmarshal([]byte(o), &s)
				if code != 0 || len(s.Runs) != 1 || s.Runs[0].Accounting.OK != 40 || !strings.Contains(e, "proofs signed ("+alg+")") {
					t.Errorf("%s: exit %d\n%s\n%s", alg, code, o, e)
				}
			}
			// Server nonces, a new one every second: each engine learns
			// them from the refusals, the workers making the refused call
			// once more; no call fails over 2.5 s, two rotations.
			nurl := startServe(t, append(srv.args, "--dpop-nonce", "1s")...)
			if srv.name == "Go gateway" {
				nurl += "/echo"
			}
			for _, engine := range []string{"workers", "loop"} {
				code, o, e := run(t, append(append([]string{"load"}, srv.load...), nurl, "--client", "bench:pw", "--dpop", "--engine", engine,
					"--rate", "200", "--duration", "2500ms", "--warmup", "0", "--no-save", "--format", "json", "--progress", "off")...)
				if engine == "loop" && srv.name == "SDK MCP" {
					engine = "workers" // the SDK server's sessions run on the loop too; nothing differs
				}
				if code != 0 || !strings.Contains(o, `"ok": 500`) {
					t.Errorf("--dpop-nonce, %s engine: exit %d\n%s\n%s", engine, code, o, e)
				}
			}
			// Bearer tokens: an MCP session cannot start; the gateway's
			// calls are each refused (400: the scheme must be DPoP).
			code, o, e := run(t, append(append([]string{"load"}, srv.load...), url, "--client", "bench:pw", "--rate", "100", "-n", "5", "--no-save", "--format", "json")...)
			refused := strings.Contains(e, "scheme must be DPoP") || strings.Contains(o, `"http 400": 5`)
			if !refused {
				t.Errorf("bearer tokens against --dpop required: exit %d\n%s\n%s", code, o, e)
			}
		})
	}
}

// TestServeTLS: serve --tls makes a certificate, writes it for clients and
// serves HTTPS; load trusts it with --cacert (and only then), on the
// workers, for plain HTTP and MCP.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range [][]string{{"http"}, {"mcp", "--impl", "fast"}, {"mcp", "--impl", "sdk", "--tls-key", "rsa"}} {
		pem := filepath.Join(dir, kind[0]+kind[len(kind)-1]+".pem")
		url := startServe(t, append(kind, "--tls", "--cert-out", pem)...)
		if !strings.HasPrefix(url, "https://") {
			t.Fatalf("%v: listening %s", kind, url)
		}
		mcp := []string{}
		if kind[0] == "mcp" {
			mcp = []string{"--mcp"}
		}
		load := func(extra ...string) (int, string, string) {
			return run(t, append(append(append([]string{"load"}, mcp...), url, "--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json", "--progress", "off"), extra...)...)
		}
		if code, o, e := load("--cacert", pem); code != 0 || !strings.Contains(o, `"ok": 20`) || !strings.Contains(o, `"engine": "workers"`) {
			t.Errorf("%v with --cacert: %d\n%s\n%s", kind, code, o, e)
		}
		if code, o, e := load(); code == 0 && strings.Contains(o, `"ok": 20`) {
			t.Errorf("%v: an untrusted certificate was accepted\n%s%s", kind, o, e)
		}
		// What each connection negotiated, by connection mode: kept
		// alive, a new connection per call resumed, and one with a full
		// TLS 1.2 handshake over X25519 each time.
		for _, tc := range []struct {
			flags                    []string
			version, group           string
			minHandshakes, minResume int64
			maxResume                int64
		}{
			{nil, "TLS 1.3", "X25519MLKEM768", 1, 0, 16},
			{[]string{"--new-conn-per-call"}, "TLS 1.3", "X25519MLKEM768", 20, 19, 21},
			{[]string{"--new-conn-per-call", "--tls-resume=false", "--tls-version", "1.2", "--tls-groups", "x25519"}, "TLS 1.2", "X25519", 20, 0, 0},
		} {
			code, o, e := load(append([]string{"--cacert", pem}, tc.flags...)...)
			var s struct {
				Runs []struct {
					Accounting struct{ OK int }
					TLS        *bench.TLSInfo
				}
			}
			if err := json.Unmarshal([]byte(o), &s); code != 0 || err != nil || len(s.Runs) != 1 || s.Runs[0].TLS == nil {
				t.Errorf("%v %v: %d %v\n%s\n%s", kind, tc.flags, code, err, o, e)
				continue
			}
			got := s.Runs[0].TLS
			if s.Runs[0].Accounting.OK != 20 || got.Version != tc.version || got.Group != tc.group || got.Handshakes < tc.minHandshakes ||
				got.Resumed < tc.minResume || got.Resumed > tc.maxResume || got.Handshake.P50 <= 0 || got.CipherSuite == "" {
				t.Errorf("%v %v: ok %d, tls %+v", kind, tc.flags, s.Runs[0].Accounting.OK, got)
			}
		}
	}
	// HTTP/2: h2 by ALPN where net/http serves (the official SDK), a clear
	// refusal where fasthttp does (the fast server), h2c on plaintext.
	sdkPEM := filepath.Join(dir, "h2.pem")
	sdkURL := startServe(t, "mcp", "--impl", "sdk", "--tls", "--cert-out", sdkPEM)
	fastPEM := filepath.Join(dir, "h2fast.pem")
	fastURL := startServe(t, "mcp", "--impl", "fast", "--tls", "--cert-out", fastPEM)
	h2load := func(url string, extra ...string) (int, string, string) {
		return run(t, append([]string{"load", "--mcp", url, "--http2", "-c", "4", "--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json", "--progress", "off"}, extra...)...)
	}
	if code, o, e := h2load(sdkURL, "--cacert", sdkPEM, "--h2-conns", "2"); code != 0 || !strings.Contains(o, `"ok": 20`) || !strings.Contains(o, `"alpn": "h2"`) ||
		!strings.Contains(o, `"connections": 2,`) || !strings.Contains(o, `"dials": 2`) || !strings.Contains(o, `"server_max_streams"`) {
		t.Errorf("sdk over h2: %d\n%s\n%s", code, o, e)
	}
	if code, _, e := h2load(fastURL, "--cacert", fastPEM); code == 0 || !strings.Contains(e, "does not speak HTTP/2") {
		t.Errorf("fast server over h2: %d %s", code, e)
	}
	if code, o, e := h2load(startServe(t, "mcp", "--impl", "sdk")); code != 0 || !strings.Contains(o, `"ok": 20`) || !strings.Contains(o, `"http2"`) {
		t.Errorf("sdk over h2c: %d\n%s\n%s", code, o, e)
	}
	// The gateways behind HTTPS: Go's TLS in the Go gateway, OpenSSL in
	// HAProxy; a new connection per call, resumed.
	rest := startServe(t, "rest")
	gateways := [][]string{{"--impl", "go"}}
	if _, err := gateway.HAProxyVersion(); err == nil {
		gateways = append(gateways, []string{"--impl", "haproxy"})
	}
	for _, impl := range gateways {
		pem := filepath.Join(dir, impl[1]+".pem")
		url := startServe(t, append([]string{"gateway", "--upstream", rest, "--tls", "--cert-out", pem}, impl...)...)
		code, o, e := run(t, "load", url+"/echo", "--cacert", pem, "--new-conn-per-call", "-X", "POST", "-H", "Content-Type: application/json",
			"--body", `{"message":"hi"}`, "--rate", "200", "-n", "20", "--warmup", "0", "--no-save", "--format", "json", "--progress", "off")
		if code != 0 || !strings.HasPrefix(url, "https://") || !strings.Contains(o, `"ok": 20`) || !strings.Contains(o, `"resumed": 2`) {
			t.Errorf("gateway %v over TLS: %s: %d\n%s\n%s", impl, url, code, o, e)
		}
	}
	for _, bad := range [][]string{{"--tls-version", "1.1"}, {"--tls-groups", "X448"}} {
		if code, _, e := run(t, append([]string{"load", "https://127.0.0.1:1/", "-n", "1", "--no-save"}, bad...)...); code != 2 || !strings.Contains(e, bad[0]) {
			t.Errorf("load %v: %d %s", bad, code, e)
		}
	}
	if code, _, e := run(t, "load", "http://127.0.0.1:1/", "--tls-version", "1.3", "-n", "1", "--no-save"); code != 2 || !strings.Contains(e, "https://") {
		t.Errorf("load http --tls-version: %d %s", code, e)
	}
	if code, _, e := run(t, "serve", "tcpecho", "--tls"); code != 2 || !strings.Contains(e, "--tls is for") {
		t.Errorf("serve tcpecho --tls: %d %s", code, e)
	}
}

// TestRunTLS: variants served over HTTPS with certificates from the run's
// CA, in the three connection modes; the generator verifies them (a
// server with a certificate from elsewhere would fail every call), and
// each run's summary says what its handshakes were.
func TestRunTLS(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	dir := t.TempDir()
	sc := filepath.Join(dir, "tls.yaml")
	haproxy := ""
	if _, err := gateway.HAProxyVersion(); err == nil {
		haproxy = "\n  - {name: hap-tls, stack: gateway, impl: haproxy, auth: jwt, alg: ES256, tls: resumed}" +
			"\n  - {name: hap-h2-keepalive, stack: gateway, impl: haproxy, tls: keep-alive, http2: true}"
	}
	os.WriteFile(sc, []byte(`
name: tls
rounds: 1
segment: 300ms
warmup: 100ms
load: {rate: 200, connections: 2}
baseline: rest
variants:
  - {name: rest, stack: rest}
  - {name: rest-keepalive, stack: rest, tls: keep-alive}
  - {name: fast-full, stack: mcp, impl: fast, tls: full, tls_group: X25519}
  - {name: sdk-jwt-resumed, stack: mcp, impl: sdk, auth: jwt, alg: ES256, tls: resumed}
  - {name: graphql-keepalive, stack: graphql, tls: keep-alive}
  - {name: sdk-h2-keepalive, stack: mcp, impl: sdk, tls: keep-alive, http2: true}
  - {name: graphql-h2c, stack: graphql, http2: true}`+haproxy+"\n"), 0o644)
	s := mustRun(t, sc, filepath.Join(dir, "out"))
	for _, r := range s.Runs {
		tl := r.TLS
		a := r.Accounting
		if a.OK == 0 || a.Errors != 0 {
			t.Errorf("%s: %+v", r.Name, a)
			continue
		}
		if h2 := strings.Contains(r.Name, "h2"); h2 != (r.HTTP2 != nil) || h2 && (r.HTTP2.Connections != 1 || r.HTTP2.Dials != 1 || r.HTTP2.Streams != 2 || labelOf(s, r.Name, "http") != "2") ||
			h2 && tl != nil && tl.ALPN != "h2" {
			t.Errorf("%s: http2 %+v, tls %+v", r.Name, r.HTTP2, tl)
		}
		switch {
		case r.Name == "rest" || r.Name == "graphql-h2c":
			if tl != nil {
				t.Errorf("rest over plain HTTP has TLS %+v", tl)
			}
		case tl == nil || tl.Handshakes == 0 || tl.Failed != 0 || !strings.HasPrefix(r.Name, "hap") && (r.Name == "fast-full") != (tl.Group == "X25519"):
			t.Errorf("%s: tls %+v", r.Name, tl)
		case strings.HasSuffix(r.Name, "keepalive") && uint64(tl.Handshakes) > 2,
			strings.Contains(r.Name, "keepalive") != (labelOf(s, r.Name, "tls") == "keep-alive"),
			strings.HasSuffix(r.Name, "full") && (uint64(tl.Handshakes) < a.OK || tl.Resumed != 0),
			strings.HasSuffix(r.Name, "resumed") && (uint64(tl.Handshakes) < a.OK || uint64(tl.Resumed) < a.OK):
			t.Errorf("%s: %d calls, tls %+v", r.Name, a.OK, tl)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nvariants:\n  - {name: a, stack: mcp, transport: stdio, tls: full}\n"), 0o644)
	if code, _, e := run(t, "run", bad); code != 2 || !strings.Contains(e, "bad.yaml:3:") || !strings.Contains(e, "tls is for") {
		t.Errorf("tls on stdio: exit %d, %s", code, e)
	}
	os.WriteFile(bad, []byte("name: x\nvariants:\n  - {name: a, stack: mcp, impl: fast, http2: true}\n"), 0o644)
	if code, _, e := run(t, "run", bad); code != 2 || !strings.Contains(e, "bad.yaml:3:") || !strings.Contains(e, "http2 is for") {
		t.Errorf("http2 on the fast server: exit %d, %s", code, e)
	}
}

// labelOf is a label of a variant in a summary.
func labelOf(s *results.Summary, variant, key string) string {
	for _, v := range s.Scenario.Variants {
		if v.Name == variant {
			return v.Labels[key]
		}
	}
	return ""
}

// mustRun runs the scenario file sc into out, which must succeed, and
// reads its results back.
func mustRun(t *testing.T, sc, out string) *results.Summary {
	t.Helper()
	code, o, e := run(t, "run", sc, "-o", out, "--progress", "off")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, o, e)
	}
	s, err := readResults(out)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestShardedLoad: three generator processes, each --shard i/3 with one
// --start-at, against one server, merged, schedule and record what one
// generator at the full rate does: the same count of requests, the same
// schedule, every call accounted for; a late start and a missing shard
// are refused.
func TestShardedLoad(t *testing.T) {
	url := startServe(t, "http")
	dir := t.TempDir()
	common := []string{"load", url, "--rate", "600", "--duration", "1s", "--warmup", "200ms", "-c", "4", "--progress", "off", "--format", "json"}
	code, o, e := run(t, append(common, "-o", filepath.Join(dir, "one"))...)
	if code != 0 {
		t.Fatalf("one generator: %d\n%s", code, e)
	}
	one, _ := readResults(filepath.Join(dir, "one"))
	at := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
	outs := runShards(t, dir, 3, func(i int, out string) []string {
		return append(slices.Clip(common), "--shard", fmt.Sprintf("%d/3", i), "--start-at", at, "-o", out)
	})
	merged := filepath.Join(dir, "merged")
	if code, o, e = run(t, append([]string{"merge"}, append(outs, "-o", merged)...)...); code != 0 {
		t.Fatalf("merge: %d\n%s%s", code, o, e)
	}
	m, err := readResults(merged)
	if err != nil {
		t.Fatal(err)
	}
	r, w := m.Runs[0], one.Runs[0]
	if r.Accounting.Scheduled != w.Accounting.Scheduled || r.Accounting.OK != r.Accounting.Scheduled || r.Schedule != w.Schedule ||
		math.Abs(r.TargetRate-w.TargetRate) > 6 || r.Shards != 3 || len(m.Shards) != 3 || r.Response.Count != int64(r.Accounting.OK) {
		t.Errorf("merged: scheduled %d ok %d, schedule %q, rate %v, shards %d/%d, count %d; one generator: scheduled %d, schedule %q, rate %v",
			r.Accounting.Scheduled, r.Accounting.OK, r.Schedule, r.TargetRate, r.Shards, len(m.Shards), r.Response.Count,
			w.Accounting.Scheduled, w.Schedule, w.TargetRate)
	}
	var started []time.Time
	for _, d := range outs {
		s, _ := readResults(d)
		started = append(started, s.Runs[0].Started)
		if s.Runs[0].StartAt == nil || s.Runs[0].StartAt.Format(time.RFC3339Nano) != at {
			t.Errorf("%s: start_at %v, want %s", d, s.Runs[0].StartAt, at)
		}
	}
	if spread := slices.MaxFunc(started, time.Time.Compare).Sub(slices.MinFunc(started, time.Time.Compare)); spread > time.Millisecond {
		t.Errorf("the shards' schedules began %v apart: %v", spread, started)
	}
	// Refused: a start instant that has passed, a missing shard.
	if code, _, e := run(t, append(common, "--shard", "0/3", "--start-at", "2020-01-01T00:00:00Z", "--no-save")...); code != 2 || !strings.Contains(e, "passed") {
		t.Errorf("a past start: %d %s", code, e)
	}
	if code, _, e := run(t, "merge", outs[0], outs[2], "-o", filepath.Join(dir, "bad")); code == 0 || !strings.Contains(e, "missing 1/3") {
		t.Errorf("a missing shard: %d %s", code, e)
	}
}

// TestRunReplicas: variants as replicas behind HAProxy: stateless MCP
// with tokens spreads over them without an error; MCP sessions need the
// balancer's affinity (without it a session is lost at once, and the
// variant fails saying so; with it none is lost).
func TestRunReplicas(t *testing.T) {
	if _, err := gateway.HAProxyVersion(); err != nil {
		t.Skip("HAProxy is not installed (make tools-haproxy)")
	}
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	dir := t.TempDir()
	sc := filepath.Join(dir, "replicas.yaml")
	os.WriteFile(sc, []byte(`
name: replicas
rounds: 1
segment: 300ms
warmup: 100ms
load: {rate: 200, connections: 4}
baseline: fast-1
variants:
  - {name: fast-1, stack: mcp, impl: fast, auth: jwt, alg: ES256, replicas: 1}
  - {name: fast-3, stack: mcp, impl: fast, auth: jwt, alg: ES256, replicas: 3}
  - {name: sessions-2-roundrobin, stack: mcp, impl: sdk, stateful: true, replicas: 2}
  - {name: sessions-2-affinity, stack: mcp, impl: sdk, stateful: true, replicas: 2, balance: session}
  - {name: gateway-2, stack: gateway, auth: jwt, alg: ES256, cache: true, replicas: 2}
  - {name: gateway-tier-2, stack: gateway, auth: jwt, alg: ES256, cache: true, upstream_replicas: 2}
`), 0o644)
	out := filepath.Join(dir, "out")
	code, o, e := run(t, "run", sc, "-o", out, "--progress", "off")
	s, err := readResults(out)
	if err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, o, e)
	}
	// Without affinity the variant fails at its setup, or, when its
	// sessions happened to start, every call fails.
	rr := s.Scenario.Failed["sessions-2-roundrobin"]
	for _, r := range s.Runs {
		if r.Name == "sessions-2-roundrobin" {
			if r.Accounting.OK != 0 || r.Counters["mcp_sessions_lost"] == 0 {
				t.Errorf("sessions without affinity: %+v, counters %v", r.Accounting, r.Counters)
			}
			rr = "ran"
			continue
		}
		if r.Accounting.OK == 0 || r.Accounting.Errors != 0 || labelOf(s, r.Name, "replicas")+labelOf(s, r.Name, "upstream_replicas") == "" {
			t.Errorf("%s: %+v, labels replicas %q", r.Name, r.Accounting, labelOf(s, r.Name, "replicas"))
		}
		if r.Name == "sessions-2-affinity" && (r.Counters["mcp_sessions_lost"] != 0 || r.Counters["mcp_sessions_started"] < 4) {
			t.Errorf("sessions with affinity: counters %v", r.Counters)
		}
		// Auth in each of 2 replicas: each verifies the segment's token
		// once; one tier in front: once.
		if want := map[string]int64{"gateway-2": 2, "gateway-tier-2": 1}[r.Name]; want > 0 &&
			(r.Counters["server_token_cache_misses"] != want || r.Counters["server_token_cache_hits"] < int64(r.Accounting.OK)-want) {
			t.Errorf("%s: counters %v, want %d cache misses", r.Name, r.Counters, want)
		}
	}
	if rr != "ran" && !strings.Contains(rr, "balancer without session affinity") {
		t.Errorf("sessions without affinity: failed %q", rr)
	}
	os.WriteFile(sc, []byte("name: x\nvariants:\n  - {name: a, stack: mcp, balance: session}\n"), 0o644)
	if code, _, e := run(t, "run", sc); code != 2 || !strings.Contains(e, "balance needs replicas") {
		t.Errorf("balance without replicas: %d %s", code, e)
	}
}

// TestShardedRun: a scenario run by two generator processes (run --shard
// i/2, one --start-at) against servers started apart, merged: every
// segment of the plan merged across the shards, the comparisons drawn
// again, and the same requests scheduled as one generator's run.
func TestShardedRun(t *testing.T) {
	t.Setenv("MCPBENCH_AS_MAIN", "1")
	a, b := startServe(t, "mcp", "--impl", "fast"), startServe(t, "mcp", "--impl", "fast", "--spin", "50us")
	dir := t.TempDir()
	sc := filepath.Join(dir, "ext.yaml")
	os.WriteFile(sc, []byte(`
name: ext
rounds: 2
segment: 300ms
warmup: 100ms
load: {rate: 400, connections: 4}
baseline: a
variants:
  - {name: a, stack: external, url: "`+a+`"}
  - {name: b, stack: external, url: "`+b+`"}
`), 0o644)
	one := mustRun(t, sc, filepath.Join(dir, "one"))
	at := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)
	outs := runShards(t, dir, 2, func(i int, out string) []string {
		return []string{"run", sc, "--shard", fmt.Sprintf("%d/2", i), "--start-at", at, "-o", out, "--progress", "off"}
	})
	merged := filepath.Join(dir, "merged")
	code, o, e := run(t, "merge", outs[0], outs[1], "-o", merged)
	if code != 0 {
		t.Fatalf("merge: %d\n%s%s", code, o, e)
	}
	m, err := readResults(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Segments) != len(one.Segments) || len(m.Runs) != 2 || !strings.Contains(o, "b adds") {
		t.Fatalf("merged: %d segments (one generator: %d), %d runs\n%s", len(m.Segments), len(one.Segments), len(m.Runs), o)
	}
	for i, seg := range m.Segments {
		w := one.Segments[i]
		if seg.Name != w.Name || seg.Accounting.Scheduled != w.Accounting.Scheduled || seg.Shards != 2 || seg.Accounting.OK != seg.Accounting.Scheduled {
			t.Errorf("segment %d: %s scheduled %d ok %d shards %d; one generator: %s scheduled %d", i, seg.Name, seg.Accounting.Scheduled, seg.Accounting.OK, seg.Shards, w.Name, w.Accounting.Scheduled)
		}
	}
	for _, v := range m.Scenario.Variants {
		if v.Name == "b" && (v.DeltaP50 == nil || v.DeltaP50.N != 2) {
			t.Errorf("b's comparison: %+v", v.DeltaP50)
		}
	}
	if _, err := os.Stat(filepath.Join(merged, "report.md")); err != nil {
		t.Error(err)
	}
	// Refused: a scenario whose servers the run would start.
	if code, _, e := run(t, "run", "../../scenarios/dpop.yaml", "--shard", "0/2", "--start-at", "+10s", "--no-save"); code != 2 || !strings.Contains(e, "external") {
		t.Errorf("a sharded run of served stacks: %d %s", code, e)
	}
}

// runShards runs n mcpbench processes at once, shard i with args(i, its
// results directory dir/shard-i), waits for them all, and returns the
// directories; a shard that fails fails t, with its stderr.
func runShards(t *testing.T, dir string, n int, args func(i int, out string) []string) []string {
	t.Helper()
	var cmds []*exec.Cmd
	var outs []string
	var stderrs []*bytes.Buffer
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		outs = append(outs, d)
		cmd := exec.Command(os.Args[0], args(i, d)...)
		cmd.Env = append(os.Environ(), "MCPBENCH_AS_MAIN=1")
		stderr := new(bytes.Buffer)
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, stderrs = append(cmds, cmd), append(stderrs, stderr)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, stderrs[i])
		}
	}
	return outs
}
