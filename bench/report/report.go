// Package report turns a scenario's results into words and pictures: the
// comparison table with deltas and their confidence intervals, one plain
// sentence per comparison, report.md, and the charts. It works from a
// results.Summary alone, so that `mcpbench report DIR` and `mcpbench plot
// DIR` can redo it from summary.json and the .hgrm files.
//
//	rep := report.Compare(baseline, variants)   // deltas from paired rounds
//	report.Table(os.Stdout, summary)
//	md := report.Markdown(summary, chartFiles)
package report

import (
	"fmt"
	"io"
	"math"
	"path"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
)

// Variant is one variant's merged result and its segments, for Compare.
type Variant struct {
	Name   string
	Labels map[string]string
	Floor  bool
	Merged *bench.Result
	// Rounds are the variant's segments in the order they ran.
	Rounds []*bench.Result
	// Paired holds, for each of Rounds, the baseline's figures it is
	// compared with (the baseline segments run next to it, merged); nil
	// where none ran. Without Paired, segments pair with the baseline's
	// by index.
	Paired []*bench.Result
	// Known is the Δp50 this variant must show by construction (a
	// calibration row); 0 for none.
	Known time.Duration
}

// Compare fills the variants' reports: per-segment percentiles, and deltas
// against the baseline from the paired segments.
func Compare(baseline string, vs []Variant) []results.VariantReport {
	var base *Variant
	for i := range vs {
		if vs[i].Name == baseline {
			base = &vs[i]
		}
	}
	out := make([]results.VariantReport, 0, len(vs))
	for _, v := range vs {
		r := results.VariantReport{Name: v.Name, Labels: v.Labels, Floor: v.Floor}
		for _, s := range v.Rounds {
			r.RoundP50 = append(r.RoundP50, s.Response.P50)
			r.RoundP99 = append(r.RoundP99, s.Response.P99)
		}
		if m := v.Merged; m != nil && m.Calls() > 0 {
			r.RequestBytes = float64(m.BytesWritten) / float64(m.Calls())
			r.ResponseBytes = float64(m.BytesRead) / float64(m.Calls())
		}
		if base != nil && v.Name != base.Name && !v.Floor {
			deltas(&r, v, base.Rounds)
		}
		out = append(out, r)
	}
	return out
}

// deltas draws a variant's Δp50, Δp99 and Δ server CPU from its segments
// and their baseline partners. CPU pairs where either side was not
// measured are left out.
func deltas(r *results.VariantReport, v Variant, baseRounds []*bench.Result) {
	paired := v.Paired
	if paired == nil {
		paired = baseRounds
	}
	var a50, b50, a99, b99, acpu, bcpu []float64
	for i, seg := range v.Rounds {
		if i >= len(paired) || paired[i] == nil {
			continue
		}
		p := paired[i]
		a50, b50 = append(a50, float64(seg.Response.P50)), append(b50, float64(p.Response.P50))
		a99, b99 = append(a99, float64(seg.Response.P99)), append(b99, float64(p.Response.P99))
		if seg.ServerCPUCall > 0 && p.ServerCPUCall > 0 {
			acpu, bcpu = append(acpu, seg.ServerCPUCall), append(bcpu, p.ServerCPUCall)
		}
	}
	if len(a50) == 0 {
		return
	}
	d50, d99 := bench.HodgesLehmann(a50, b50), bench.HodgesLehmann(a99, b99)
	r.DeltaP50, r.DeltaP99 = &d50, &d99
	if len(acpu) > 0 {
		dc := bench.HodgesLehmann(acpu, bcpu)
		r.DeltaCPU = &dc
	}
	if v.Known > 0 {
		k := float64(v.Known)
		r.Calibration = &results.Calibration{Known: v.Known, Contains: d50.Low <= k && k <= d50.High, Resolved: d50.Resolved(10e3, 0.1)}
	}
}

func floats(xs []int64) []float64 {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return f
}

func roundsOf(rs []*bench.Result, f func(*bench.Result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// Thresholds checks each threshold against the variants it names.
func Thresholds(ths []Threshold, runs []*bench.Result) []results.ThresholdResult {
	var out []results.ThresholdResult
	for _, th := range ths {
		for _, r := range runs {
			if ok, _ := path.Match(th.Variant, r.Name); !ok {
				continue
			}
			check := func(metric string, limit, value float64, below bool) {
				passed := value <= limit
				if !below {
					passed = value >= limit
				}
				out = append(out, results.ThresholdResult{Variant: r.Name, Metric: metric, Limit: limit, Value: value, Passed: passed})
			}
			p := r.Response
			for _, c := range []struct {
				name  string
				limit int64
				value int64
			}{{"p50", th.P50, p.P50}, {"p90", th.P90, p.P90}, {"p99", th.P99, p.P99}, {"p99.9", th.P999, p.P999}, {"max", th.Max, p.Max}} {
				if c.limit > 0 {
					check(c.name, float64(c.limit), float64(c.value), true)
				}
			}
			if th.ErrorsSet {
				a := r.Accounting
				frac := 0.0
				if a.Scheduled > 0 {
					frac = float64(a.Errors+a.InFlight+a.Queued) / float64(a.Scheduled)
				}
				check("errors", th.Errors, frac, true)
			}
			if th.MinRate > 0 {
				check("min_rate", th.MinRate, r.Achieved, false)
			}
		}
	}
	return out
}

// Threshold is a limit on some variants' figures (nanoseconds, a fraction
// of calls, requests per second).
type Threshold struct {
	Variant                  string
	P50, P90, P99, P999, Max int64
	Errors                   float64
	ErrorsSet                bool
	MinRate                  float64
}

// rows are the comparison's cells, one row per variant that ran: name,
// rate, p50, p90, p99, p99.9, max, Δp50, Δp99, server CPU, bytes, errors.
// join separates request and response bytes.
func rows(s *results.Summary, join string) [][]string {
	rep := s.Scenario
	byName := map[string]*bench.Result{}
	for _, r := range s.Runs {
		byName[r.Name] = r
	}
	var out [][]string
	for _, v := range rep.Variants {
		r := byName[v.Name]
		if r == nil {
			continue
		}
		p := r.Response
		d50, d99 := "baseline", "baseline"
		if v.Name != rep.Baseline {
			d50, d99 = deltaCell(v.DeltaP50), deltaCell(v.DeltaP99)
		}
		if v.Floor {
			d50, d99 = "floor", "floor"
		}
		if c := v.Calibration; c != nil {
			mark := "✓"
			if !c.Passed() {
				mark = "MISSED"
			}
			d50 += fmt.Sprintf(" (known %s %s)", results.FormatNs(int64(c.Known)), mark)
		}
		if _, failed := rep.Failed[v.Name]; failed {
			d50, d99 = "failed", "failed"
		}
		bytes := "-"
		if v.RequestBytes+v.ResponseBytes > 0 {
			bytes = fmt.Sprintf("%.0f%s%.0f", v.RequestBytes, join, v.ResponseBytes)
		}
		out = append(out, []string{v.Name, fmt.Sprintf("%.0f", r.Achieved),
			results.FormatNs(p.P50), results.FormatNs(p.P90), results.FormatNs(p.P99), results.FormatNs(p.P999), results.FormatNs(p.Max),
			d50, d99, cpuCell(r.ServerCPUCall), bytes, errorsCell(r.Accounting)})
	}
	return out
}

// Table prints the comparison: one row per variant with its merged
// percentiles, the deltas against the baseline with their 95% intervals,
// server CPU and bytes per call, and errors.
func Table(w io.Writer, s *results.Summary) error {
	rep := s.Scenario
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\trate/s\tp50\tp90\tp99\tp99.9\tmax\tΔp50 (95% CI)\tΔp99 (95% CI)\tsrv cpu/call\treq+resp bytes\terrors\t")
	for _, c := range rows(s, "+") {
		fmt.Fprintln(tw, strings.Join(c, "\t")+"\t")
	}
	for name, why := range rep.Failed {
		fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\t\t\t\t\t\t\t\n", name, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range rep.Warnings {
		if _, err := fmt.Fprintln(w, "warning: "+l); err != nil {
			return err
		}
	}
	for _, l := range ErrorLines(s) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// ErrorLines say, for each variant with errors, what they were: the calls
// that succeeded and their rate (rate/s counts every completed call, 429s
// included), then the errors by class and code.
func ErrorLines(s *results.Summary) []string {
	var out []string
	for _, r := range s.Runs {
		if d := results.ErrorDetail(r.Accounting); d != "" {
			ok := ""
			if calls := r.Calls(); calls > 0 { // of rate/s, the calls that succeeded
				ok = fmt.Sprintf(" (%.0f/s)", r.Achieved*float64(r.Accounting.OK)/float64(calls))
			}
			out = append(out, fmt.Sprintf("%s: %d ok%s; errors: %s", r.Name, r.Accounting.OK, ok, d))
		}
	}
	return out
}

// DeltaText is a delta with its interval: "+41.2µs ± 3.10µs".
func DeltaText(d bench.Delta) string { return deltaCell(&d) }

func deltaCell(d *bench.Delta) string {
	if d == nil {
		return "-"
	}
	if d.N < 2 {
		return signed(d.Estimate) + " (1 round)"
	}
	return signed(d.Estimate) + " ± " + results.FormatNs(int64(math.Abs(d.HalfWidth())))
}

// signed prints nanoseconds with a sign: +41.2µs, −3.10µs.
func signed(ns float64) string {
	if ns < 0 {
		return "−" + results.FormatNs(int64(-ns))
	}
	return "+" + results.FormatNs(int64(ns))
}

func cpuCell(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return results.FormatNs(int64(ns))
}

func errorsCell(a bench.Accounting) string {
	bad := a.Errors + a.InFlight + a.Queued
	if bad == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.2f%%)", bad, 100*float64(bad)/float64(a.Scheduled))
}

// Sentences says each comparison in plain words, from the numbers.
func Sentences(s *results.Summary) []string {
	rep := s.Scenario
	var out []string
	for _, v := range rep.Variants {
		if v.DeltaP50 == nil || v.Floor {
			continue
		}
		d50, d99 := *v.DeltaP50, *v.DeltaP99
		verb := "adds"
		if d50.Estimate < 0 {
			verb = "saves"
		}
		line := fmt.Sprintf("%s %s %s at p50 (p99: %s) against %s", v.Name, verb, amount(d50), signedAmount(d99), rep.Baseline)
		if d50.N > 1 && !d50.Significant() {
			line += "; at p50 the difference is within the noise of " + fmt.Sprint(d50.N) + " paired segments"
		}
		if v.DeltaCPU != nil {
			line += fmt.Sprintf("; server CPU %s per call", signed(v.DeltaCPU.Estimate))
		}
		out = append(out, line+".")
	}
	return out
}

// amount is a delta's size and interval in words: "41.2µs ± 3.10µs".
func amount(d bench.Delta) string {
	m := results.FormatNs(int64(math.Abs(d.Estimate)))
	if d.N < 2 {
		return m
	}
	return m + " ± " + results.FormatNs(int64(math.Abs(d.HalfWidth())))
}

// signedAmount is amount with its sign: "+61.7µs ± 7.17µs", "−3.10µs".
func signedAmount(d bench.Delta) string {
	if d.Estimate < 0 {
		return "−" + amount(d)
	}
	return "+" + amount(d)
}

// ThresholdLines describes the thresholds missed, or says all passed.
func ThresholdLines(s *results.Summary) (lines []string, failed int) {
	for _, t := range s.Scenario.Thresholds {
		if !t.Passed {
			failed++
			lines = append(lines, fmt.Sprintf("MISSED %s %s: %s, limit %s", t.Variant, t.Metric, metric(t.Metric, t.Value), metric(t.Metric, t.Limit)))
		}
	}
	if n := len(s.Scenario.Thresholds); n > 0 && failed == 0 {
		lines = append(lines, fmt.Sprintf("all %d threshold checks passed", n))
	}
	return lines, failed
}

func metric(name string, v float64) string {
	switch name {
	case "errors":
		return fmt.Sprintf("%.3f%%", 100*v)
	case "min_rate":
		return fmt.Sprintf("%.0f/s", v)
	}
	return results.FormatNs(int64(v))
}

// sortedLabels prints a variant's labels as key=value, sorted.
func sortedLabels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k, v := range l {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, " ")
}

// Warnings are what a scenario's results give reason to doubt, in words:
// a calibration row that missed its known answer, and each variant's
// segment warnings (the same text counted once, with how many segments
// said it).
func Warnings(vs []Variant, rep *results.ScenarioReport) []string {
	var out []string
	for _, r := range rep.Variants {
		if c := r.Calibration; c != nil && !c.Passed() && r.DeltaP50 != nil {
			why := "its interval does not contain the known " + results.FormatNs(int64(c.Known))
			if c.Contains {
				why = "its interval is wider than the goal of ±max(10µs, 10%)"
			}
			out = append(out, fmt.Sprintf("calibration MISSED: %s came out at %s at p50 against a known %s: %s, so differences of that size in this run cannot be trusted",
				r.Name, signedAmount(*r.DeltaP50), results.FormatNs(int64(c.Known)), why))
		}
	}
	for _, v := range vs {
		count := map[string]int{}
		var order []string
		for _, seg := range v.Rounds {
			for _, w := range seg.Warnings {
				if count[w] == 0 {
					order = append(order, w)
				}
				count[w]++
			}
		}
		for _, w := range order {
			out = append(out, fmt.Sprintf("%s (%d of %d segments): %s", v.Name, count[w], len(v.Rounds), w))
		}
		if v.Merged != nil {
			for _, w := range v.Merged.Warnings {
				if count[w] == 0 {
					out = append(out, v.Name+": "+w)
				}
			}
		}
	}
	return out
}
