package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/internal/golden"
)

// seg is a round of a variant with fixed figures.
func seg(name string, round int, p50, p99 int64, cpu float64) *bench.Result {
	r := &bench.Result{
		Name: name + "#" + string(rune('1'+round)), Model: "open", Schedule: "constant 2000/s", TargetRate: 2000, Achieved: 1999.5,
		Connections: 16, Warmup: time.Second, Duration: 5 * time.Second,
		Accounting:    bench.Accounting{Scheduled: 10000, Sent: 10000, OK: 10000},
		Response:      bench.Percentiles{P50: p50, P90: p50 * 3 / 2, P99: p99, P999: p99 * 2, P9999: p99 * 3, Max: p99 * 4},
		ServerCPUCall: cpu, BytesRead: 10000 * 300, BytesWritten: 10000 * 420,
	}
	for i := 0; i < 5; i++ {
		r.Intervals = append(r.Intervals, bench.Interval{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second,
			Response: bench.Percentiles{P99: p99 + int64(i)*1000}})
	}
	return r
}

func fixture(t *testing.T) *results.Summary {
	t.Helper()
	type fig struct{ p50, p99 []int64 }
	figs := map[string]fig{
		"none":       {[]int64{60_000, 61_000, 59_000}, []int64{120_000, 125_000, 118_000}},
		"jwt-rs256":  {[]int64{101_000, 103_000, 100_000}, []int64{180_000, 190_000, 178_000}},
		"jwt-cached": {[]int64{60_500, 61_800, 58_900}, []int64{121_000, 127_000, 119_000}},
		"tcp-floor":  {[]int64{30_000, 30_500, 29_800}, []int64{50_000, 52_000, 49_000}},
	}
	var vs []Variant
	var runs, segs []*bench.Result
	for _, name := range []string{"none", "jwt-rs256", "jwt-cached", "tcp-floor"} {
		f := figs[name]
		var rounds []*bench.Result
		for i := range f.p50 {
			s := seg(name, i, f.p50[i], f.p99[i], float64(f.p50[i])/3)
			rounds = append(rounds, s)
			segs = append(segs, s)
		}
		m := *rounds[1]
		m.Name = name
		m.Accounting = bench.Accounting{Scheduled: 30000, Sent: 30000, OK: 30000}
		m.BytesRead, m.BytesWritten = 30000*300, 30000*420
		if name == "jwt-rs256" {
			m.Accounting = bench.Accounting{Scheduled: 30000, Sent: 30000, OK: 29990, Errors: 10, ByClass: map[string]uint64{"http": 10}}
		}
		runs = append(runs, &m)
		vs = append(vs, Variant{Name: name, Labels: map[string]string{"stack": "mcp"}, Floor: name == "tcp-floor", Merged: &m, Rounds: rounds})
	}
	s := results.NewSummary([]string{"mcpbench", "run", "scenarios/demo.yaml"}, results.Host{CPUModel: "Test CPU", NumCPU: 2, Kernel: "6.1", GoVersion: "go1.26", GeneratorCPUs: "0", ServerCPUs: "1"}, runs...)
	s.Created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.Tool = "mcpbench test"
	s.Segments = segs
	s.Scenario = &results.ScenarioReport{Name: "demo", Description: "JWT against none.", Baseline: "none", Rounds: 3, Segment: 5 * time.Second,
		Variants: Compare("none", vs)}
	s.Scenario.Thresholds = Thresholds([]Threshold{{Variant: "jwt-*", P99: 150_000}, {Variant: "*", Errors: 0.0001, ErrorsSet: true}}, runs)
	s.Scenario.Tokenomics = []results.TokenomicsRow{{Variant: "jwt-rs256", Lifetime: time.Hour, Rate: 2000, TokenCost: 1500 * time.Microsecond, Samples: 3, CallsPerToken: 7.2e6, PerCall: 1.5e6 / 7.2e6}}
	return s
}

func TestCompare(t *testing.T) {
	s := fixture(t)
	v := s.Scenario.Variants[1] // jwt-rs256: deltas 41k, 42k, 41k at p50
	if v.DeltaP50 == nil || v.DeltaP50.N != 3 || v.DeltaP50.Mean < 41_332 || v.DeltaP50.Mean > 41_334 || !v.DeltaP50.Significant() {
		t.Errorf("Δp50 %+v", v.DeltaP50)
	}
	if s.Scenario.Variants[0].DeltaP50 != nil || s.Scenario.Variants[3].DeltaP50 != nil {
		t.Error("the baseline and the floor got deltas")
	}
	if v.RequestBytes != 420 || v.ResponseBytes != 300 {
		t.Errorf("bytes %v + %v", v.RequestBytes, v.ResponseBytes)
	}
	lines, failed := ThresholdLines(s)
	if failed != 2 || !strings.Contains(strings.Join(lines, "\n"), "MISSED jwt-rs256 p99") {
		t.Errorf("thresholds: %d failed: %v", failed, lines)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Table(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "table.golden"), b.Bytes())
}

func TestSentences(t *testing.T) {
	got := strings.Join(Sentences(fixture(t)), "\n")
	for _, want := range []string{
		"jwt-rs256 adds 41.3µs ± ",
		"at p50 (p99: +61.7µs ± ",
		"jwt-cached adds 400ns ± ",
		"within the noise",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("sentences lack %q:\n%s", want, got)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "report.md.golden"), Markdown(fixture(t), []string{"spectrum.png", "spectrum.svg", "overhead-p50.png"}))
}

func TestCharts(t *testing.T) {
	s := fixture(t)
	spectra := map[string][]chart.Point{}
	for _, r := range s.Runs {
		spectra[r.Name] = []chart.Point{{Percentile: 50, Value: float64(r.Response.P50)}, {Percentile: 90, Value: float64(r.Response.P90)},
			{Percentile: 99, Value: float64(r.Response.P99)}, {Percentile: 99.9, Value: float64(r.Response.P999)}}
	}
	files, err := Charts(s, spectra)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spectrum", "overhead-p50", "overhead-p99", "p99-over-time"} {
		b, ok := files[want+".png"]
		if !ok || files[want+".svg"] == nil {
			t.Errorf("no %s chart", want)
			continue
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if img.Bounds().Dx() != int(chart.Width.Dots(96)) || img.Bounds().Dy() != int(chart.Height.Dots(96)) {
			t.Errorf("%s.png is %v", want, img.Bounds())
		}
		if d := os.Getenv("CHART_DIR"); d != "" {
			os.WriteFile(filepath.Join(d, "report-"+want+".png"), b, 0o644)
		}
	}
}

// TestWarningsShown: segment warnings and a missed calibration reach the
// terminal table, report.md and summary.json. Before the fix they were
// appended to the segments' results and shown nowhere.
func TestWarningsShown(t *testing.T) {
	s := fixture(t)
	var vs []Variant
	for _, v := range s.Scenario.Variants {
		var rounds []*bench.Result
		for _, seg := range s.Segments {
			if strings.HasPrefix(seg.Name, v.Name+"#") {
				rounds = append(rounds, seg)
			}
		}
		vs = append(vs, Variant{Name: v.Name, Rounds: rounds})
	}
	vs[1].Rounds[0].Warnings = []string{"server CPU not measured: process gone"}
	vs[1].Rounds[2].Warnings = []string{"server CPU not measured: process gone"}
	rep := *s.Scenario
	rep.Variants = append([]results.VariantReport(nil), rep.Variants...)
	d := bench.Delta{Estimate: 12_000, Low: 11_000, High: 13_000, N: 3}
	rep.Variants[2].DeltaP50 = &d
	rep.Variants[2].Calibration = &results.Calibration{Known: 20 * time.Microsecond, Contains: false, Resolved: true}
	rep.Warnings = Warnings(vs, &rep)
	s.Scenario = &rep
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "calibration MISSED: jwt-cached") ||
		!strings.Contains(rep.Warnings[1], "jwt-rs256 (2 of 3 segments): server CPU not measured") {
		t.Fatalf("warnings %q", rep.Warnings)
	}
	var tbl bytes.Buffer
	if err := Table(&tbl, s); err != nil {
		t.Fatal(err)
	}
	md := string(Markdown(s, nil))
	js, _ := json.Marshal(s)
	for where, text := range map[string]string{"table": tbl.String(), "report.md": md, "summary.json": string(js)} {
		if !strings.Contains(text, "calibration MISSED") || !strings.Contains(text, "2 of 3 segments") {
			t.Errorf("%s lacks the warnings:\n%s", where, text)
		}
	}
	if !strings.Contains(tbl.String(), "(known 20.0µs MISSED)") {
		t.Errorf("the table does not mark the calibration row:\n%s", tbl.String())
	}
}

// TestHTMLLoad: a load's report page holds its run and loads nothing from
// elsewhere.
func TestHTMLLoad(t *testing.T) {
	r := &bench.Result{Name: "load", Target: "http://127.0.0.1:1/", Model: "open", Schedule: "constant 100/s", TargetRate: 100, Achieved: 99.5}
	r.Accounting = bench.Accounting{Scheduled: 10, Sent: 10, OK: 10}
	s := results.NewSummary([]string{"mcpbench", "load", "http://127.0.0.1:1/", "--client", "a:secret"}, results.ThisHost(), r)
	page := string(HTML(s, nil))
	for _, want := range []string{"<td>load</td>", "default-src 'none'", "Where and how it ran", "a:REDACTED"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "secret") || strings.Contains(page, `src="http`) {
		t.Error("the page holds the secret or a remote source")
	}
}

// TestCompareHTML: a comparison that moved beyond its intervals is
// highlighted, one that did not is not.
func TestCompareHTML(t *testing.T) {
	page := string(CompareHTML(Comparison{A: "a", B: "b", RunHead: []string{"run"}, Runs: [][]string{{"x"}},
		DeltaHead: []string{"comparison", "A", "B", "inside", "within"},
		Deltas:    [][]string{{"same", "+1µs", "+1µs", "yes", "yes"}, {"moved", "+1µs", "+9µs", "NO", "NO"}}}))
	if strings.Count(page, `class="apart"`) != 1 || !strings.Contains(page, `<tr class="apart"><td>moved</td>`) || !strings.Contains(page, "default-src 'none'") {
		t.Errorf("page:\n%s", page)
	}
}
