package report

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/results"
)

// Markdown writes report.md: what ran where, the table, the sentences,
// the thresholds, saturation and tokenomics, and the charts.
func Markdown(s *results.Summary, charts []string) []byte {
	rep := s.Scenario
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", rep.Name)
	if rep.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(rep.Description))
	}
	h := s.Host
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, Linux %s, %s; generator on CPU %s, servers on CPU %s\n", h.CPUModel, h.NumCPU, h.Kernel, h.GoVersion, h.GeneratorCPUs, h.ServerCPUs)
	if h.CPUNote != "" {
		fmt.Fprintf(&b, "- note: %s\n", h.CPUNote)
	}
	fmt.Fprintf(&b, "- command: `%s` (%s), %s\n", strings.Join(s.Command, " "), s.Tool, s.Created.Format(time.RFC3339))
	if len(s.Runs) > 0 {
		r := s.Runs[0]
		fmt.Fprintf(&b, "- load: %s; %d connections; %d interleaved rounds of %v per variant, each after %v of warm-up\n", r.Schedule, r.Connections, rep.Rounds, rep.Segment, r.Warmup)
	}
	fmt.Fprintf(&b, "- latency is response time, from each call's intended start (no coordinated omission); Δ is against **%s**, %s: the Hodges–Lehmann estimate over the pairs (the median of their Walsh averages) with its 95%% Wilcoxon signed-rank interval\n", rep.Baseline, pairing(rep.Order))
	b.WriteString("- a row with a known difference (a server burning a known CPU time per call) checks the run: ✓ when its interval holds the known value and is within ±max(10µs, 10%)\n\n")

	b.WriteString("| variant | rate/s | p50 | p90 | p99 | p99.9 | max | Δp50 (95% CI) | Δp99 (95% CI) | server CPU/call | bytes/call (req+resp) | errors |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range rows(s, " + ") {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(c, " | "))
	}
	for name, why := range rep.Failed {
		fmt.Fprintf(&b, "| %s | failed: %s |||||||||||\n", name, strings.ReplaceAll(why, "|", "/"))
	}
	lines, _ := ThresholdLines(s)
	for _, part := range []struct {
		heading string
		lines   []string
	}{
		{"\nWhere a cell says \"-\":\n\n", dashes(s)},
		{"\n## Warnings\n\n", rep.Warnings},
		{"\n", ErrorLines(s)},
		{"\n", Sentences(s)},
		{"\n## Thresholds\n\n", lines},
	} {
		if len(part.lines) == 0 {
			continue
		}
		b.WriteString(part.heading)
		for _, l := range part.lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	if len(rep.Saturation) > 0 {
		b.WriteString("\n## Saturation\n\n| variant | sustainable rate/s | stopped by |\n|---|--:|---|\n")
		for _, sr := range rep.Saturation {
			fmt.Fprintf(&b, "| %s | %.0f | %s |\n", sr.Variant, sr.Sustainable, sr.StoppedBy)
		}
	}
	if len(rep.Tokenomics) > 0 {
		b.WriteString("\n## Tokenomics\n\nThe client's token request, measured in this run (the mean over the segments, each of which fetched one), spread over the calls one token serves: the run's rate times the token's lifetime, or a single call for fresh tokens.\n\n")
		b.WriteString("| variant | token lifetime | token request | calls per token | cost per call |\n|---|--:|--:|--:|--:|\n")
		for _, t := range rep.Tokenomics {
			life := t.Lifetime.String()
			if t.Fresh {
				life += " (fresh: one call each)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s (mean of %d) | %.0f | %s |\n", t.Variant, life, results.FormatNs(int64(t.TokenCost)), t.Samples,
				t.CallsPerToken, perCall(t.PerCall))
		}
	}
	if len(charts) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, c := range charts {
			if strings.HasSuffix(c, ".png") {
				fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(c, ".png"), c)
			}
		}
	}
	return b.Bytes()
}

// dashes give the reason for each "-" in the table: a server CPU not
// measured, a delta not drawn.
func dashes(s *results.Summary) []string {
	var out []string
	byName := map[string]*bench.Result{}
	for _, r := range s.Runs {
		byName[r.Name] = r
	}
	for _, v := range s.Scenario.Variants {
		r := byName[v.Name]
		if r == nil {
			continue
		}
		if r.ServerCPUCall == 0 {
			why := r.ServerCPUNote
			if why == "" {
				why = "not measured"
			}
			out = append(out, fmt.Sprintf("%s server CPU/call: %s", v.Name, why))
		}
		if v.Name != s.Scenario.Baseline && !v.Floor && v.DeltaP50 == nil {
			out = append(out, fmt.Sprintf("%s Δ: no segment of it had a baseline segment beside it that ran", v.Name))
		}
		if v.RequestBytes+v.ResponseBytes == 0 {
			out = append(out, fmt.Sprintf("%s bytes/call: this driver does not count its bytes", v.Name))
		}
	}
	return out
}

// overTime is each variant's p99 per interval, its segments' measured
// intervals end to end.
func overTime(s *results.Summary) []chart.XYSeries {
	var lines []chart.XYSeries
	for _, v := range s.Scenario.Variants {
		var xs, ys []float64
		t := 0.0
		for _, seg := range s.Segments {
			if name, _, ok := strings.Cut(seg.Name, "#"); !ok || name != v.Name {
				continue
			}
			for _, iv := range seg.Intervals {
				if iv.Warmup {
					continue
				}
				t += (iv.End - iv.Start).Seconds()
				xs, ys = append(xs, t), append(ys, float64(iv.Response.P99))
			}
		}
		if len(xs) > 0 {
			lines = append(lines, chart.XYSeries{Name: v.Name, X: xs, Y: ys})
		}
	}
	return lines
}

// pairing says how a scenario's order paired its segments.
func pairing(order string) string {
	if order == "rotate" {
		return "each segment paired with the baseline's in the same round"
	}
	return "each segment paired with the two baseline segments run just before and after it"
}

func perCall(ns float64) string {
	if ns < 1 {
		return fmt.Sprintf("%.3fns", ns)
	}
	return results.FormatNs(int64(ns))
}

// Charts draws the scenario's charts from the summary and the variants'
// percentile spectra (from their histograms, or read back from .hgrm
// files), and returns them by file name, PNG and SVG.
func Charts(s *results.Summary, spectra map[string][]chart.Point) (map[string][]byte, error) {
	rep := s.Scenario
	files := map[string][]byte{}
	var series []chart.Series
	for _, v := range rep.Variants {
		if pts := spectra[v.Name]; len(pts) > 0 {
			series = append(series, chart.Series{Name: v.Name, Points: pts})
		}
	}
	rate := ""
	if len(s.Runs) > 0 && s.Runs[0].Model == "open" {
		rate = fmt.Sprintf(" at %.0f calls/s", s.Runs[0].TargetRate)
	}
	if len(series) > 0 {
		p, err := chart.Spectrum(rep.Name+": response time percentiles"+rate, series)
		if err != nil {
			return nil, err
		}
		if err := render(files, "spectrum", p); err != nil {
			return nil, err
		}
	}
	for _, which := range []string{"p50", "p99"} {
		var bars []chart.Bar
		for _, v := range rep.Variants {
			d := v.DeltaP50
			if which == "p99" {
				d = v.DeltaP99
			}
			if d != nil {
				bars = append(bars, chart.Bar{Name: v.Name, Mean: d.Estimate, Low: d.Low, High: d.High})
			}
		}
		if len(bars) == 0 {
			continue
		}
		p, err := chart.Overhead(fmt.Sprintf("%s: added %s latency against %s", rep.Name, which, rep.Baseline), bars)
		if err != nil {
			return nil, err
		}
		if err := render(files, "overhead-"+which, p); err != nil {
			return nil, err
		}
	}
	if lines := overTime(s); len(lines) > 0 {
		p, err := chart.OverTime(rep.Name+": p99 per interval (a second at most; segments end to end)", "p99 response time", lines)
		if err == nil {
			if err := render(files, "p99-over-time", p); err != nil {
				return nil, err
			}
		}
	}
	if len(rep.Saturation) > 0 {
		var sat []chart.XYSeries
		for _, sr := range rep.Saturation {
			var xs, ys []float64
			for _, st := range sr.Steps {
				xs, ys = append(xs, st.Achieved), append(ys, float64(st.P99))
			}
			sat = append(sat, chart.XYSeries{Name: sr.Variant, X: xs, Y: ys})
		}
		p, err := chart.Saturation(rep.Name+": p99 against throughput", sat)
		if err == nil {
			if err := render(files, "saturation", p); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}
