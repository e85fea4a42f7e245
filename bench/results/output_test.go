package results

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/internal/golden"
)

func TestWriteResults(t *testing.T) {
	d := instant{}
	defer d.Close()
	var runs []*bench.Result
	for _, name := range []string{"a/b c", "second"} {
		res := mustRun(t, bench.Config{Name: name, Driver: d, Pacer: constant(t, 2000), Duration: 300 * time.Millisecond, Interval: 100 * time.Millisecond})
		runs = append(runs, res)
	}
	dir := filepath.Join(t.TempDir(), "load", "20260101-000000")
	if err := WriteResults(dir, NewSummary([]string{"mcpbench", "load"}, ThisHost(), runs...)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"summary.json", "a_b_c.hgrm", "a_b_c.hlog", "second.hgrm", "second.hlog", "timeseries.csv"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	var s struct {
		Schema string
		Runs   []struct {
			Name       string
			Accounting struct{ OK uint64 }
			Response   struct {
				P99 int64 `json:"p99_ns"`
			} `json:"response_time"`
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != SummarySchema || len(s.Runs) != 2 || s.Runs[0].Accounting.OK != 600 || s.Runs[0].Response.P99 <= 0 {
		t.Fatalf("summary.json: %+v", s)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "timeseries.csv"))
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(runs[0].Intervals) + len(runs[1].Intervals); len(rows) != want {
		t.Fatalf("timeseries.csv has %d rows, want %d", len(rows), want)
	}
	// Nothing half-written is left beside the result, and a second write
	// never clobbers the first.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("left beside the result: %v", entries)
	}
	if err := WriteResults(dir, NewSummary(nil, ThisHost(), runs...)); err == nil {
		t.Fatal("overwrote an existing result")
	}
}

func TestFormatNs(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "0"}, {850, "850ns"}, {1000, "1.00µs"}, {41234, "41.2µs"}, {999499, "999µs"},
		{1_050_000, "1.05ms"}, {12_345_678, "12.3ms"}, {2_310_000_000, "2.31s"},
	}
	for _, tc := range tests {
		if got := FormatNs(tc.ns); got != tc.want {
			t.Errorf("FormatNs(%d) = %q, want %q", tc.ns, got, tc.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	r := &bench.Result{Name: "mcp-fast", Model: "open", TargetRate: 1000, Achieved: 999.6,
		Response: bench.Percentiles{P50: 41_000, P90: 60_000, P99: 120_000, P999: 900_000, P9999: 1_500_000, Max: 2_000_000},
		Accounting: bench.Accounting{Scheduled: 1000, OK: 990, Errors: 8, InFlight: 1, Queued: 1,
			ByClass: map[string]uint64{"rate_limited": 5, "http": 2, "protocol": 1},
			ByCode:  map[string]uint64{"rate_limited 429": 5, "http 503": 1, "http 502": 1, "protocol -32601": 1}},
		ServerCPUCall: 23_400, GeneratorCPUCall: 9_100, BytesPerCall: 612}
	c := &bench.Result{Name: "closed", Model: "closed", Achieved: 51234, Response: bench.Percentiles{P50: 300_000}, Accounting: bench.Accounting{Scheduled: 10, OK: 10}}
	var b strings.Builder
	if err := WriteTable(&b, []*bench.Result{r, c}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "table.golden"), []byte(b.String()))
}

// TestSummaryRedactsCommand: the command line a summary records has its
// secrets redacted.
func TestSummaryRedactsCommand(t *testing.T) {
	s := NewSummary([]string{"mcpbench", "load", "--client", "bench:s3cret", "--api-key=k1", "-H", "Authorization: Bearer eyJabc"}, Host{})
	for _, a := range s.Command {
		if strings.Contains(a, "s3cret") || strings.Contains(a, "eyJabc") || strings.Contains(a, "k1") {
			t.Errorf("a secret reached the summary: %q", s.Command)
		}
	}
}

func TestNewSummaryProvenance(t *testing.T) {
	s := NewSummary([]string{"mcpbench", "load"}, ThisHost())
	if b := bench.ThisBuild(); s.Build.Commit != b.Commit || s.Build.DirtyString() != b.DirtyString() || s.Tool != "mcpbench "+b.Version {
		t.Errorf("summary build %+v tool %q, this binary %+v", s.Build, s.Tool, b)
	}
	if name, err := os.Hostname(); err == nil && s.Host.Hostname != name {
		t.Errorf("host name %q, os.Hostname %q", s.Host.Hostname, name)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Build struct {
			Commit string          `json:"commit"`
			Dirty  json.RawMessage `json:"dirty"`
		} `json:"build"`
		Host struct {
			Hostname string `json:"hostname"`
		} `json:"host"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Build.Commit == "" || len(back.Build.Dirty) == 0 || back.Host.Hostname != s.Host.Hostname {
		t.Errorf("summary.json lacks build.commit, build.dirty or host.hostname: %s", js)
	}
}

// instant answers every call at once, OK.
type instant struct{}

func (instant) Open(context.Context, int) (bench.Conn, error) { return instant{}, nil }
func (instant) Call(time.Time) bench.Outcome                  { return bench.Outcome{} }
func (instant) Close() error                                  { return nil }

func constant(t *testing.T, rate float64) bench.Pacer {
	t.Helper()
	p, err := bench.Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, cfg bench.Config) *bench.Result {
	t.Helper()
	res, err := bench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}
