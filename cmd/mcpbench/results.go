package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/chart"
	"github.com/mcpbench/mcpbench/bench/orchestrate"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
)

// readResults loads a results directory's summary.json.
func readResults(dir string) (*results.Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/summary.json: %v", dir, err)
	}
	if s.Schema != results.SummarySchema {
		return nil, fmt.Errorf("%s/summary.json is schema %q; this mcpbench reads %q", dir, s.Schema, results.SummarySchema)
	}
	return &s, nil
}

func oneDir(name, about string, args []string) (string, error) {
	fs := newFlags(name, "DIR", about)
	if err := parse(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("%w: want one results directory", errUsage)
	}
	return fs.Arg(0), nil
}

// openDir reads the one results directory a command's arguments name.
func openDir(name, about string, args []string) (string, *results.Summary, error) {
	dir, err := oneDir(name, about, args)
	if err != nil {
		return "", nil, err
	}
	s, err := readResults(dir)
	return dir, s, err
}

func runReport(ctx context.Context, args []string) error {
	if slices.Contains(args, "--html") {
		return reportHTML(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--html" }))
	}
	dir, s, err := openDir("report", "Print a results directory's table, sentences and thresholds again, and rewrite its report.md (--html: write its report.html again, for results made before it existed).", args)
	if err != nil {
		return err
	}
	if s.Scenario == nil {
		return results.WriteTable(out, s.Runs)
	}
	if _, err := printScenario(s); err != nil {
		return err
	}
	charts, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for i := range charts {
		charts[i] = filepath.Base(charts[i])
	}
	sort.Strings(charts)
	return os.WriteFile(filepath.Join(dir, "report.md"), report.Markdown(s, charts), 0o644)
}

func runPlot(ctx context.Context, args []string) error {
	dir, s, err := openDir("plot", "Draw the charts of a results directory again, from summary.json and the .hgrm files.", args)
	if err != nil {
		return err
	}
	if s.Scenario == nil {
		return fmt.Errorf("%s holds no scenario run (charts are drawn for mcpbench run)", dir)
	}
	spectra := map[string][]chart.Point{}
	for _, r := range s.Runs {
		f, err := os.Open(filepath.Join(dir, results.FileName(r.Name)+".hgrm"))
		if err != nil {
			continue
		}
		pts, err := chart.ParseHGRM(f)
		f.Close()
		if err == nil {
			spectra[r.Name] = pts
		}
	}
	files, err := report.Charts(s, spectra)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(out, filepath.Join(dir, name))
	}
	return nil
}

const compareAbout = `
Print, for every run present in both directories, how its figures moved
from A to B: achieved rate, p50, p99 and max. Each side's figures are from
its own merged histograms; no interval is drawn, since the two were not
run side by side. When both are runs of a scenario, it then lists each
comparison's Δp50 in A and in B and whether B's lies inside A's 95%
interval, and whether the two estimates differ by less than their
half-widths combined (√(hA²+hB²)): B's estimate has noise of its own, so
even correct 95% intervals hold the other run's estimate only about 83% of
the time, where the combined test holds about 95% of the time. Last, how
the machine itself moved from A to B: the baseline's server CPU per call
and the floor rows' p50, the same work in both runs. A delta made of CPU
work moves with the machine's speed, which no run's interval can see.`

func runCompare(ctx context.Context, args []string) error {
	fs := newFlags("compare", "DIR_A DIR_B", compareAbout)
	htmlOut := fs.String("html", "", "also write the comparison as one self-contained HTML page to this file (differences outside their intervals highlighted)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: want two results directories", errUsage)
	}
	a, err := readResults(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := readResults(fs.Arg(1))
	if err != nil {
		return err
	}
	c := compareRuns(a, b)
	if len(c.Runs) == 0 {
		return fmt.Errorf("no run names in common between %s and %s", fs.Arg(0), fs.Arg(1))
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(c.RunHead, "\t")+"\t")
	for _, r := range c.Runs {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Deltas) > 0 {
		fmt.Fprintln(out)
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(c.DeltaHead, "\t")+"\t")
		for _, r := range c.Deltas {
			fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintln(out, n)
	}
	if *htmlOut != "" {
		c.A, c.B = fs.Arg(0), fs.Arg(1)
		if err := os.WriteFile(*htmlOut, report.CompareHTML(c), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "comparison: %s\n", *htmlOut)
	}
	return nil
}

// compareRuns sets two results side by side: every run both hold, then,
// for scenario runs, every comparison both drew, and the machine's drift.
func compareRuns(a, b *results.Summary) report.Comparison {
	c := report.Comparison{RunHead: []string{"run", "rate A", "rate B", "p50 A", "p50 B", "Δp50", "p99 A", "p99 B", "Δp99", "max A", "max B"}}
	byName := map[string]*bench.Result{}
	for _, r := range a.Runs {
		byName[r.Name] = r
	}
	for _, rb := range b.Runs {
		ra := byName[rb.Name]
		if ra == nil {
			continue
		}
		c.Runs = append(c.Runs, []string{rb.Name, fmt.Sprintf("%.0f", ra.Achieved), fmt.Sprintf("%.0f", rb.Achieved),
			results.FormatNs(ra.Response.P50), results.FormatNs(rb.Response.P50), pct(ra.Response.P50, rb.Response.P50),
			results.FormatNs(ra.Response.P99), results.FormatNs(rb.Response.P99), pct(ra.Response.P99, rb.Response.P99),
			results.FormatNs(ra.Response.Max), results.FormatNs(rb.Response.Max)})
	}
	if a.Scenario != nil && b.Scenario != nil {
		compareDeltas(&c, a.Scenario, b.Scenario)
		if l := machineDrift(a, b); l != "" {
			c.Notes = append(c.Notes, l)
		}
	}
	return c
}

// machineDrift says how much the machine's speed moved between two scenario
// runs, as the same work's cost: the baseline's server CPU per call and the
// floor rows' p50. A delta made of CPU work moves with it, and no run's
// interval can see a change that happens between runs.
func machineDrift(a, b *results.Summary) string {
	byName := map[string]*bench.Result{}
	for _, r := range a.Runs {
		byName[r.Name] = r
	}
	var parts []string
	for _, rb := range b.Runs {
		ra := byName[rb.Name]
		switch {
		case ra == nil:
		case rb.Name == b.Scenario.Baseline && ra.ServerCPUCall > 0 && rb.ServerCPUCall > 0:
			parts = append(parts, fmt.Sprintf("%s server CPU per call %s → %s (%+.1f%%)", rb.Name,
				results.FormatNs(int64(ra.ServerCPUCall)), results.FormatNs(int64(rb.ServerCPUCall)), 100*(rb.ServerCPUCall/ra.ServerCPUCall-1)))
		case strings.HasPrefix(rb.Name, "floor-"):
			parts = append(parts, fmt.Sprintf("%s p50 %s → %s (%s)", rb.Name,
				results.FormatNs(ra.Response.P50), results.FormatNs(rb.Response.P50), pct(ra.Response.P50, rb.Response.P50)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("the machine, A → B: %s. Deltas made of CPU work move with its speed.", strings.Join(parts, "; "))
}

// compareDeltas adds, for every comparison both scenario runs drew,
// whether B's Δp50 lies inside A's 95% interval, and whether the two
// differ by less than their half-widths combined.
func compareDeltas(c *report.Comparison, a, b *results.ScenarioReport) {
	byName := map[string]results.VariantReport{}
	for _, v := range a.Variants {
		byName[v.Name] = v
	}
	c.DeltaHead = []string{"comparison", "Δp50 A (95% CI)", "Δp50 B (95% CI)", "B inside A's interval", "A−B within ±√(hA²+hB²)"}
	outside, apart := 0, 0
	for _, vb := range b.Variants {
		va, ok := byName[vb.Name]
		if !ok || va.DeltaP50 == nil || vb.DeltaP50 == nil {
			continue
		}
		da, db := *va.DeltaP50, *vb.DeltaP50
		inside := "yes"
		if db.Estimate < da.Low || db.Estimate > da.High {
			inside, outside = "NO", outside+1
		}
		// Both estimates carry their own noise: their difference has the
		// two half-widths combined, so a correct 95% interval of A holds
		// B's estimate only about 83% of the time.
		within := "yes"
		if math.Abs(da.Estimate-db.Estimate) > math.Hypot(da.HalfWidth(), db.HalfWidth()) {
			within, apart = "NO", apart+1
		}
		c.Deltas = append(c.Deltas, []string{vb.Name, report.DeltaText(da), report.DeltaText(db), inside, within})
	}
	if n := len(c.Deltas); n > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d of %d comparisons of B lie inside A's interval; %d of %d differ by less than their combined half-widths", n-outside, n, n-apart, n))
	}
}

func pct(a, b int64) string {
	if a == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(b-a)/float64(a))
}

// reportHTML writes a results directory's report.html again: from
// summary.json and the charts' SVG files, or, for a load, its histograms.
func reportHTML(args []string) error {
	dir, s, err := openDir("report", "Write a results directory's report.html again.", args)
	if err != nil {
		return err
	}
	var charts []report.NamedFile
	if s.Scenario != nil {
		files := map[string][]byte{}
		svgs, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
		for _, f := range svgs {
			if b, err := os.ReadFile(f); err == nil {
				files[filepath.Base(f)] = b
			}
		}
		charts = report.SVGs(files, chartOrder(files))
	} else {
		for _, r := range s.Runs {
			if err := loadHistograms(dir, r); err != nil {
				return err
			}
		}
		charts = report.LoadCharts(s)
	}
	f := filepath.Join(dir, "report.html")
	if err := os.WriteFile(f, report.HTML(s, charts), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(out, f)
	return nil
}

// chartOrder is the SVG charts among files in the order a report shows
// them.
func chartOrder(files map[string][]byte) []string {
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ".svg") {
			names = append(names, n)
		}
	}
	orchestrate.SortCharts(names)
	return names
}
