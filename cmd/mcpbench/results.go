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
	byName := map[string]*bench.Result{}
	for _, r := range a.Runs {
		byName[r.Name] = r
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trate A\trate B\tp50 A\tp50 B\tΔp50\tp99 A\tp99 B\tΔp99\tmax A\tmax B\t")
	n := 0
	for _, rb := range b.Runs {
		ra := byName[rb.Name]
		if ra == nil {
			continue
		}
		n++
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", rb.Name, ra.Achieved, rb.Achieved,
			results.FormatNs(ra.Response.P50), results.FormatNs(rb.Response.P50), pct(ra.Response.P50, rb.Response.P50),
			results.FormatNs(ra.Response.P99), results.FormatNs(rb.Response.P99), pct(ra.Response.P99, rb.Response.P99),
			results.FormatNs(ra.Response.Max), results.FormatNs(rb.Response.Max))
	}
	if n == 0 {
		return fmt.Errorf("no run names in common between %s and %s", fs.Arg(0), fs.Arg(1))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if a.Scenario != nil && b.Scenario != nil {
		if err := compareDeltas(a.Scenario, b.Scenario); err != nil {
			return err
		}
		machineDrift(a, b)
	}
	return nil
}

// machineDrift says how much the machine's speed moved between two scenario
// runs, as the same work's cost: the baseline's server CPU per call and the
// floor rows' p50. A delta made of CPU work moves with it, and no run's
// interval can see a change that happens between runs.
func machineDrift(a, b *results.Summary) {
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
	if len(parts) > 0 {
		fmt.Fprintf(out, "the machine, A → B: %s. Deltas made of CPU work move with its speed.\n", strings.Join(parts, "; "))
	}
}

// compareDeltas says, for every comparison both scenario runs drew, whether
// B's Δp50 lies inside A's 95% interval, and whether the two differ by less
// than their half-widths combined.
func compareDeltas(a, b *results.ScenarioReport) error {
	byName := map[string]results.VariantReport{}
	for _, v := range a.Variants {
		byName[v.Name] = v
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "comparison\tΔp50 A (95% CI)\tΔp50 B (95% CI)\tB inside A's interval\tA−B within ±√(hA²+hB²)\t")
	rows, outside, apart := 0, 0, 0
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
		rows++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", vb.Name, report.DeltaText(da), report.DeltaText(db), inside, within)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows > 0 {
		fmt.Fprintf(out, "%d of %d comparisons of B lie inside A's interval; %d of %d differ by less than their combined half-widths\n", rows-outside, rows, rows-apart, rows)
	}
	return nil
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
