//go:build !race

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/results"
)

// TestOverloadAtTwiceCapacity drives each rate-limited stack at twice the
// rate it can sustain, as a user would: servers as child processes on one
// CPU, `mcpbench load` on the other. It first measures the stack's capacity
// with the limit out of reach (closed loop), then starts it again with the
// limit at half that capacity and offers twice the capacity, open loop.
// The stack must serve about its limit, refuse the excess with 429 alone
// (which the harness counts apart), keep its memory bounded, and serve
// normally afterwards.
func TestOverloadAtTwiceCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20-second overload run")
	}
	cpus, err := proc.Allowed()
	if err != nil || len(cpus) < 2 {
		t.Skipf("needs two CPUs, one for the servers and one for the load (%v, %v)", cpus, err)
	}
	t.Setenv("MCPBENCH_TEST_KEY", "k")
	gen, srv := strconv.Itoa(cpus[0]), strconv.Itoa(cpus[len(cpus)-1])
	upstream := strings.TrimSuffix(startChild(t, "rest", "--cpus", srv).URL(), "/tools")
	issuer := startChild(t, "authserver", "--alg", "ES256", "--client", "bench:env:MCPBENCH_TEST_KEY", "--cpus", srv).URL()
	// The plain echo: a stack's capacity with no work behind it, which one
	// generator CPU on the event loop can offer twice over.
	rest := []string{"-X", "POST", "-H", "Content-Type: application/json", "--body", `{"message":"hello"}`}
	stacks := []struct {
		name  string
		serve func(limit string) []string
		path  string
		load  []string
		// edge: refusals cost nearly what admissions do, which can take
		// the stack past capacity; its admitted calls may then time out.
		edge bool
	}{
		{"gateway-go", func(limit string) []string {
			return []string{"gateway", "--impl", "go", "--upstream", upstream, "--auth", "apikey", "--api-key", "env:MCPBENCH_TEST_KEY", "--rate-limit", limit}
		}, "/echo", append(rest, "-H", "X-API-Key: k"), false},
		{"gateway-haproxy", func(limit string) []string {
			return []string{"gateway", "--impl", "haproxy", "--upstream", upstream, "--auth", "apikey", "--api-key", "env:MCPBENCH_TEST_KEY", "--rate-limit", limit}
		}, "/echo", append(rest, "-H", "X-API-Key: k"), false},
		// The limit counts a token's subject, so a refusal costs a signature
		// check (~80 µs for ES256); with the cache, a lookup.
		{"gateway-go-jwt", func(limit string) []string {
			return []string{"gateway", "--impl", "go", "--upstream", upstream, "--auth", "jwt", "--issuer", issuer, "--rate-limit", limit}
		}, "/echo", append(rest, "--client", "bench:env:MCPBENCH_TEST_KEY"), true},
		{"gateway-go-jwt-cached", func(limit string) []string {
			return []string{"gateway", "--impl", "go", "--upstream", upstream, "--auth", "jwt", "--issuer", issuer, "--auth-cache", "--rate-limit", limit}
		}, "/echo", append(rest, "--client", "bench:env:MCPBENCH_TEST_KEY"), false},
		{"graphql", func(limit string) []string {
			return []string{"graphql", "--rate-limit", limit}
		}, "", []string{"-X", "POST", "-H", "Content-Type: application/json", "--body", `{"query":"{ echo(message: \"hello\") }"}`}, false},
	}
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			if strings.Contains(st.name, "haproxy") {
				if _, err := exec.LookPath("haproxy"); err != nil {
					t.Skip("haproxy is not installed: make tools-haproxy")
				}
			}
			// Capacity: the limit out of reach, 16 callers back to back.
			free := startChild(t, append(st.serve("1000000"), "--cpus", srv)...)
			capRes := loadChild(t, append([]string{free.URL() + st.path, "--closed", "-c", "16", "-d", "1500ms", "--warmup", "300ms", "--cpus", gen}, st.load...)...)
			capacity := capRes.Achieved
			if capRes.Accounting.Errors != 0 || capacity < 50 {
				t.Fatalf("capacity run: %.0f calls/s, %+v", capacity, capRes.Accounting)
			}
			free.Stop(5 * time.Second)

			// Twice that, open loop, against the limit at half of it.
			limit := capacity / 2
			lim := startChild(t, append(st.serve(strconv.Itoa(int(limit))), "--cpus", srv)...)
			// The server's memory, each 250 ms: after the warm-up second it
			// must stay flat (bounded), not grow with the calls refused.
			rssStart := rssTree(lim.Pid())
			var rss []int64
			stop, sampled := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(sampled)
				for tick := time.NewTicker(250 * time.Millisecond); ; {
					select {
					case <-stop:
						tick.Stop()
						return
					case <-tick.C:
						rss = append(rss, rssTree(lim.Pid()))
					}
				}
			}()
			over := loadChild(t, append([]string{lim.URL() + st.path, "--rate", strconv.Itoa(int(2 * capacity)), "-c", "64", "-d", "4s", "--warmup", "1s", "--timeout", "2s", "--batch", "1ms", "--cpus", gen}, st.load...)...)
			close(stop)
			<-sampled
			if len(rss) < 12 {
				t.Fatalf("%d memory samples in a 5-second run", len(rss))
			}
			rssBefore, rssAfter := rss[4], slices.Max(rss[4:]) // from the end of the warm-up second
			a := over.Accounting
			served := float64(a.OK) / over.Duration.Seconds()
			// What the schedule offered; a call that found all 64
			// connections busy waited in the generator's queue (its wait
			// counted), as a user's request would. The generator batches
			// (1 ms): these latencies are hundreds of milliseconds, and at
			// 70,000/s it would otherwise need most of its CPU.
			offered := over.TargetRate
			genLoad := over.GeneratorCPU.Seconds() / over.Duration.Seconds()
			t.Logf("%s: capacity %.0f/s (closed loop, 16 connections); limit %.0f/s; offered %.0f/s (%.2f× capacity): served %.0f/s (%.2f× the limit), 429 %d, other errors %d; served p50 %v p99 %v max %v; server RSS %d MiB at start, %d after the warm-up second, at most %d after",
				st.name, capacity, limit, offered, offered/capacity, served, served/limit, a.ByClass["rate_limited"], a.Errors-a.ByClass["rate_limited"],
				time.Duration(over.Response.P50), time.Duration(over.Response.P99), time.Duration(over.Response.Max), rssStart>>20, rssBefore>>20, rssAfter>>20)
			if err := a.Check(); err != nil {
				t.Error(err)
			}
			if offered < 1.8*capacity || genLoad > 0.9 {
				t.Errorf("offered %.0f/s, not twice the capacity %.0f/s, or the generator used %.0f%% of its CPU: it fell behind", offered, capacity, 100*genLoad)
			}
			// Within the limit, and serving: not refusing everyone (as an
			// http_req_rate stick table did, see servers/gateway).
			if (!st.edge && served < 0.5*limit) || served == 0 || served > 1.2*limit {
				t.Errorf("served %.0f/s under a limit of %.0f/s", served, limit)
			}
			other := a.Errors - a.ByClass["rate_limited"]
			if st.edge {
				other -= a.ByClass["timeout"]
			}
			if a.ByClass["rate_limited"] == 0 || other != 0 || (!st.edge && a.InFlight+a.Queued > 64) {
				t.Errorf("the excess was not refused with 429 alone: %+v", a)
			}
			if grew := rssAfter - rssBefore; rssBefore == 0 || grew > 16<<20 {
				t.Errorf("the server's memory grew under overload: %d MiB after the warm-up, then up to %d", rssBefore>>20, rssAfter>>20)
			}
			// And afterwards it serves as before, under its limit.
			after := loadChild(t, append([]string{lim.URL() + st.path, "--rate", strconv.Itoa(int(limit / 4)), "-c", "4", "-d", "1s", "--warmup", "0", "--cpus", gen}, st.load...)...)
			if after.Accounting.OK == 0 || after.Accounting.Errors != 0 {
				t.Errorf("after the overload: %+v", after.Accounting)
			}
		})
	}
}

// startChild starts `mcpbench serve ARGS` (this test binary as mcpbench),
// stopped when the test ends.
func startChild(t *testing.T, args ...string) *proc.Proc {
	t.Helper()
	p, err := proc.Start(context.Background(), proc.Options{Path: os.Args[0], Args: append([]string{"serve"}, args...), Env: []string{"MCPBENCH_AS_MAIN=1"}})
	if err != nil {
		t.Fatalf("serve %v: %v", args, err)
	}
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

// loadChild runs `mcpbench load ARGS` as a child process (it pins itself
// to CPUs, which this test process must not) and returns its one run.
func loadChild(t *testing.T, args ...string) *bench.Result {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"load", "--no-save", "--format", "json", "--progress", "off"}, args...)...)
	cmd.Env = append(os.Environ(), "MCPBENCH_AS_MAIN=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 0 {
			t.Fatalf("load %v: %v\n%s", args, err, e.String())
		}
	}
	var s results.Summary
	if err := json.Unmarshal(o.Bytes(), &s); err != nil || len(s.Runs) != 1 {
		t.Fatalf("load %v: %v\n%s%s", args, err, o.String(), e.String())
	}
	return s.Runs[0]
}

// rssTree is the resident set of pid and its descendants (HAProxy runs
// under serve), in bytes.
func rssTree(pid int) int64 {
	var kb int64
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			kb += n
		}
	}
	rss := kb << 10
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		c, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(c)) {
			if child, err := strconv.Atoi(s); err == nil {
				rss += rssTree(child)
			}
		}
	}
	return rss
}
