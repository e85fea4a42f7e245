package orchestrate

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/bench/scenario"
)

func TestPlanAdjacent(t *testing.T) {
	compared := func(n string) bool { return !strings.HasPrefix(n, "floor") }
	steps := plan(scenario.OrderAdjacent, "B", []string{"B", "x", "y", "z", "floor"}, compared, 2)
	var got []string
	for _, s := range steps {
		got = append(got, fmt.Sprintf("%s%d", s.variant, s.round))
	}
	// Round 0 rotated by 0; round 1 rotated by 1 and reversed.
	want := "B0 x0 B0 y0 B0 z0 B0 floor0 B1 x1 B1 z1 B1 y1 B1 floor1"
	if strings.Join(got, " ") != want {
		t.Fatalf("plan\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	for i, s := range steps {
		p := partners(steps, i, scenario.OrderAdjacent, "B")
		switch {
		case s.variant == "x" || s.variant == "y" || s.variant == "z":
			if len(p) != 2 || p[0] != i-1 || p[1] != i+1 {
				t.Errorf("step %d (%s): partners %v, want its two neighbours", i, s.variant, p)
			}
		}
	}
	// With one variant and no floor, the rounds share their baseline
	// segments: B x B x B.
	if n := len(plan(scenario.OrderAdjacent, "B", []string{"B", "x"}, compared, 2)); n != 5 {
		t.Errorf("B and x over 2 rounds: %d steps, want 5", n)
	}
}

func TestPlanRotate(t *testing.T) {
	steps := plan(scenario.OrderRotate, "B", []string{"B", "x", "y"}, func(string) bool { return true }, 2)
	var got []string
	for _, s := range steps {
		got = append(got, s.variant)
	}
	if strings.Join(got, " ") != "B x y x y B" {
		t.Errorf("rotate plan %v", got)
	}
	if p := partners(steps, 4, scenario.OrderRotate, "B"); len(p) != 1 || p[0] != 5 {
		t.Errorf("rotate partners of round 2's y: %v, want [5]", p)
	}
}

// TestTokenomicsFreshTokens: a fresh token serves one call, so each call
// costs the whole token request; the request's cost is every segment's
// mean, not the first's. Before the fix the fresh row spread the cost over
// rate × lifetime calls (5ns a call for a 340µs request).
func TestTokenomicsFreshTokens(t *testing.T) {
	seg := func(cost time.Duration) *bench.Result {
		return &bench.Result{Setup: bench.Setup{Phases: map[string]time.Duration{"oauth_token": cost}}}
	}
	merged := &bench.Result{Achieved: 2000}
	vs := []report.Variant{
		{Name: "shared", Labels: map[string]string{"fresh_tokens": "false"}, Merged: merged, Rounds: []*bench.Result{seg(300 * time.Microsecond), seg(500 * time.Microsecond)}},
		{Name: "fresh", Labels: map[string]string{"fresh_tokens": "true"}, Merged: merged, Rounds: []*bench.Result{seg(340 * time.Microsecond), seg(360 * time.Microsecond)}},
	}
	rows := tokenomics(&scenario.Scenario{Tokenomics: &scenario.Tokenomics{Lifetimes: []time.Duration{time.Hour}}}, vs)
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	if r := rows[0]; r.TokenCost != 400*time.Microsecond || r.Samples != 2 || r.CallsPerToken != 2000*3600 || r.PerCall != float64(400*time.Microsecond)/(2000*3600) {
		t.Errorf("shared token row %+v", r)
	}
	if r := rows[1]; r.TokenCost != 350*time.Microsecond || r.CallsPerToken != 1 || r.PerCall != float64(350*time.Microsecond) || !r.Fresh {
		t.Errorf("fresh token row %+v: want the whole 350µs per call", r)
	}
}

// TestSummariseKeepsTheRest: a variant whose segments fail their
// accounting check is marked failed with the reason; every other variant
// is still merged, compared and written. Before the fix MergeResults's
// error ended the scenario with nothing saved.
func TestSummariseKeepsTheRest(t *testing.T) {
	good := func(name string, p50 int64) *bench.Result {
		r := &bench.Result{Name: name, Response: bench.Percentiles{P50: p50, P99: p50},
			Accounting: bench.Accounting{Scheduled: 10, Sent: 10, OK: 10}}
		r.Histograms.Response, r.Histograms.Service, r.Histograms.Lag = bench.NewHistogram(), bench.NewHistogram(), bench.NewHistogram()
		r.Histograms.Response.RecordValues(p50, 10)
		return r
	}
	bad := good("broken#1", 100)
	bad.Accounting.Sent = 9 // one call vanished: the books do not balance
	steps := []step{{"base", 0}, {"fine", 0}, {"base", 0}, {"broken", 0}, {"base", 0}}
	segs := []*bench.Result{good("base#1", 100), good("fine#1", 150), good("base#2", 100), bad, good("base#3", 100)}
	s := &scenario.Scenario{Name: "t", Baseline: "base", Order: scenario.OrderAdjacent, Rounds: 1}
	r := &Runner{Scenario: s}
	rep := &results.ScenarioReport{Name: "t", Baseline: "base", Failed: map[string]string{}}
	sum := r.summarise([]scenario.Variant{{Name: "base", Stack: "mcp"}, {Name: "fine", Stack: "mcp"}, {Name: "broken", Stack: "mcp"}}, steps, segs, rep)
	if why := rep.Failed["broken"]; !strings.Contains(why, "accounting") {
		t.Errorf("broken variant: failed %q, want the accounting error", why)
	}
	if len(sum.Runs) != 3 {
		t.Fatalf("%d runs kept, want all 3", len(sum.Runs))
	}
	for _, v := range rep.Variants {
		if v.Name == "fine" && (v.DeltaP50 == nil || math.Abs(v.DeltaP50.Mean-50) > 1) {
			t.Errorf("fine's Δp50 %+v, want +50", v.DeltaP50)
		}
	}
}

// slowDriver is a server with one worker: each call holds it for d.
type slowDriver struct {
	d  time.Duration
	mu *sync.Mutex
}

func (s slowDriver) Open(context.Context, int) (bench.Conn, error) { return slowConn(s), nil }
func (slowDriver) Close() error                                    { return nil }

type slowConn slowDriver

func (c slowConn) Call(time.Time) bench.Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	time.Sleep(c.d)
	return bench.Outcome{}
}
func (slowConn) Close() error { return nil }

// TestSaturationStopsOnQueue: a stack that cannot keep up leaves calls
// queued at a step's end, which ends the search at that step, and every
// step records its accounting. 1,000/s cannot be held, however its p99
// and achieved rate look within the short step (one worker, 5ms a call:
// 200/s at most). Before the fix the step
// recorded no accounting and the queue did not count.
func TestSaturationStopsOnQueue(t *testing.T) {
	s := &scenario.Scenario{Load: scenario.LoadSpec{Connections: 2, Timeout: time.Second},
		Saturation: &scenario.Saturation{Start: 100, Step: 900, Max: 1000, Every: 2 * time.Second, SLOP99: time.Hour}}
	r := &Runner{Scenario: s}
	sr := r.saturate(context.Background(), &instance{v: scenario.Variant{Name: "slow"}, driver: slowDriver{5 * time.Millisecond, &sync.Mutex{}}})
	if len(sr.Steps) != 2 {
		t.Fatalf("steps %+v (stopped by %s)", sr.Steps, sr.StoppedBy)
	}
	last := sr.Steps[1].Accounting
	if last.Scheduled == 0 || last.InFlight+last.Queued == 0 || last.Check() != nil {
		t.Errorf("the overloaded step's accounting %+v", last)
	}
	if sr.Sustainable != 100 || !strings.Contains(sr.StoppedBy, "in flight or queued") {
		t.Errorf("sustainable %.0f, stopped by %q", sr.Sustainable, sr.StoppedBy)
	}
}

// TestSegmentCalls: the fresh-token pool covers a segment's calls at the
// load's peak rate, warm-up included — a ramp's end, a step's last rate —
// and a closed loop gets a fixed 50,000. Before the fix it was sized from
// the starting rate alone.
func TestSegmentCalls(t *testing.T) {
	for _, c := range []struct {
		name string
		load scenario.LoadSpec
		want int
	}{
		{"constant", scenario.LoadSpec{Rate: 1000}, 1000*1.2*1.5 + 100},
		{"ramp", scenario.LoadSpec{Rate: 1000, RampTo: 5000}, 5000*1.2*1.5 + 100},
		{"steps", scenario.LoadSpec{Rate: 1000, Step: 1000, StepEvery: 500 * time.Millisecond}, 3000*1.2*1.5 + 100},
		{"closed", scenario.LoadSpec{Closed: true}, 50_000},
	} {
		s := &scenario.Scenario{Load: c.load, Segment: time.Second, Warmup: 500 * time.Millisecond}
		if got := segmentCalls(s); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
