package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/orchestrate"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/bench/scenario"
)

const mergeAbout = `Merge the results of N generators that shared one schedule (load --shard
I/N, each given the same --start-at) into the result of the whole, as if
one generator had made every call: the shards' interval histograms are
added without loss (response, service, lag), counts, bytes and generator
CPU summed, every percentile computed again from the merged histograms
(never averaged), and the accounting identity checked. The output has the
same files as a load's (summary.json, .hgrm, .hlog, timeseries.csv).

Shards that do not belong together are refused: another target, schedule,
warm-up or start instant, a shard given twice, or one missing.

Examples:
  mcpbench merge results/shard-0 results/shard-1 results/shard-2 results/shard-3 -o results/merged
  mcpbench merge /results/shard-* -o /results/merged`

func runMerge(ctx context.Context, args []string) error {
	fs := newFlags("merge", "DIR... -o OUT", mergeAbout)
	outDir := fs.StringP("out", "o", "", "the merged results directory (must not exist)")
	scFile := fs.String("scenario", "", "for shards of a scenario run (run --shard): its file, if not where the shards' summaries say (it must be the file they ran: its SHA-256 is checked)")
	format := fs.String("format", "table", "what to print on stdout: table, or json (the summary)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dirs := fs.Args()
	switch {
	case len(dirs) == 0:
		return fmt.Errorf("%w: give the shards' results directories", errUsage)
	case *outDir == "":
		return fmt.Errorf("%w: give -o OUT, the merged results directory", errUsage)
	case *format != "table" && *format != "json":
		return fmt.Errorf("%w: --format is table or json, not %q", errUsage, *format)
	}
	if err := checkOut(*outDir); err != nil {
		return err
	}
	var names []string
	byName := map[string][]*bench.Result{}
	var sources []results.ShardSource
	var scenarioShards []*results.Summary
	scenarioRun := false
	for i, dir := range dirs {
		s, err := readResults(dir)
		if err != nil {
			return err
		}
		if i == 0 {
			scenarioRun = s.Scenario != nil
		} else if (s.Scenario != nil) != scenarioRun {
			return fmt.Errorf("%w: %s and %s: a scenario run and a load", bench.ErrShards, dirs[0], dir)
		}
		if s.Scenario != nil {
			if err := loadSegments(dir, s); err != nil {
				return err
			}
			scenarioShards = append(scenarioShards, s)
			shard := ""
			if len(s.Segments) > 0 {
				shard = s.Segments[0].Shard
			}
			sources = append(sources, results.ShardSource{Dir: dir, Shard: shard, Host: s.Host, Command: s.Command, Build: s.Build, Created: s.Created})
			continue
		}
		var these []string
		for _, r := range s.Runs {
			if err := loadHistograms(dir, r); err != nil {
				return err
			}
			these = append(these, r.Name)
			byName[r.Name] = append(byName[r.Name], r)
		}
		if i == 0 {
			names = these
		} else if fmt.Sprint(these) != fmt.Sprint(names) {
			return fmt.Errorf("%w: %s holds the runs %v, %s holds %v", bench.ErrShards, dirs[0], names, dir, these)
		}
		shard := ""
		if len(s.Runs) > 0 {
			shard = s.Runs[0].Shard
		}
		sources = append(sources, results.ShardSource{Dir: dir, Shard: shard, Host: s.Host, Command: s.Command, Build: s.Build, Created: s.Created})
	}
	if len(scenarioShards) > 0 {
		return mergeScenario(*scFile, scenarioShards, sources, *outDir, *format)
	}
	var merged []*bench.Result
	for _, name := range names {
		m, err := bench.MergeShards(name, byName[name])
		if err != nil {
			return err
		}
		merged = append(merged, m)
	}
	sum := results.NewSummary(os.Args, results.ThisHost(), merged...)
	sum.Shards = sources
	sum.Files = map[string][]byte{"report.html": report.HTML(sum, report.LoadCharts(sum))}
	if *format == "json" {
		if err := printJSON(sum); err != nil {
			return err
		}
	} else if err := results.WriteTable(out, merged); err != nil {
		return err
	}
	if err := results.WriteResults(*outDir, sum); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	fmt.Fprintf(errOut, "merged %d shards: %s\n", len(dirs), *outDir)
	return nil
}

// loadHistograms reads a load run's interval log and timeseries rows back
// from its results directory.
func loadHistograms(dir string, r *bench.Result) error {
	b, err := os.ReadFile(filepath.Join(dir, results.FileName(r.Name)+".hlog"))
	if err != nil {
		return fmt.Errorf("%w: %v", bench.ErrShards, err)
	}
	r.IntervalLog = b
	if err := histogramsOf(r); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, results.FileName(r.Name)+".hlog"), err)
	}
	return intervalsOf(dir, map[string]*bench.Result{r.Name: r})
}

// histogramsOf sets r's histograms to the sum of its interval log's
// intervals, which hold every measured call, and checks them against its
// accounting.
func histogramsOf(r *bench.Result) error {
	ivs, err := bench.ReadIntervalLog(r.IntervalLog)
	if err != nil {
		return err
	}
	r.Histograms.Response, r.Histograms.Service, r.Histograms.Lag = bench.NewHistogram(), bench.NewHistogram(), bench.NewHistogram()
	for _, iv := range ivs {
		r.Histograms.Response.Merge(iv.Response)
		r.Histograms.Service.Merge(iv.Service)
		r.Histograms.Lag.Merge(iv.Lag)
	}
	if got := uint64(r.Histograms.Response.TotalCount()); got != r.Accounting.OK+r.Accounting.Errors {
		return fmt.Errorf("its interval log holds %d calls, its summary %d: a damaged result", got, r.Accounting.OK+r.Accounting.Errors)
	}
	return nil
}

// intervalsOf reads the rows of timeseries.csv in dir into the intervals
// of the results named by their rows.
func intervalsOf(dir string, byName map[string]*bench.Result) error {
	f, err := os.Open(filepath.Join(dir, "timeseries.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		return fmt.Errorf("%s/timeseries.csv: %v", dir, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, k string) float64 { v, _ := strconv.ParseFloat(row[col[k]], 64); return v }
	for _, row := range rows[1:] {
		r := byName[row[col["run"]]]
		if r == nil {
			continue
		}
		iv := bench.Interval{Start: time.Duration(num(row, "start_s") * float64(time.Second)), End: time.Duration(num(row, "end_s") * float64(time.Second)),
			Warmup: row[col["warmup"]] == "true", Target: num(row, "target_rate"), Started: uint64(num(row, "started")),
			Errors: uint64(num(row, "errors")), InFlight: int(num(row, "in_flight"))}
		iv.ByClass[bench.OK] = uint64(num(row, "ok"))
		r.Intervals = append(r.Intervals, iv)
	}
	return nil
}

// mergeScenario merges the shards of a scenario run and writes the result
// as run does, report and charts included.
func mergeScenario(file string, shards []*results.Summary, sources []results.ShardSource, outDir, format string) error {
	if file == "" {
		file = shards[0].Scenario.File
	}
	s, err := scenario.Load(file)
	if err != nil {
		return fmt.Errorf("%w: the scenario the shards ran: %v (give --scenario FILE)", errUsage, err)
	}
	sum, err := orchestrate.MergeScenarioShards(s, shards, os.Args, results.ThisHost(), func(f string, a ...any) { fmt.Fprintf(errOut, f+"\n", a...) })
	if err != nil {
		return err
	}
	sum.Shards = sources
	sum.Files["report.html"] = report.HTML(sum, report.SVGs(sum.Files, chartOrder(sum.Files)))
	if format == "json" {
		if err := printJSON(sum); err != nil {
			return err
		}
	} else if _, err := printScenario(sum); err != nil {
		return err
	}
	if err := results.WriteResults(outDir, sum); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	fmt.Fprintf(errOut, "merged %d shards: %s\n", len(shards), outDir)
	return nil
}

// loadSegments reads each segment's interval log and timeseries rows back
// from a scenario run's directory: a variant's NAME.hlog holds its
// segments' logs one after another, each after the first under a
// "#segment NAME" comment.
func loadSegments(dir string, s *results.Summary) error {
	byName := map[string]*bench.Result{}
	for _, seg := range s.Segments {
		byName[seg.Name] = seg
	}
	for _, r := range s.Runs {
		b, err := os.ReadFile(filepath.Join(dir, results.FileName(r.Name)+".hlog"))
		if err != nil {
			return fmt.Errorf("%w: %v", bench.ErrShards, err)
		}
		var segs []*bench.Result
		for _, seg := range s.Segments {
			if seg.Target == r.Name {
				segs = append(segs, seg)
			}
		}
		parts := bench.SplitSegmentLog(b)
		if len(parts) != len(segs) {
			return fmt.Errorf("%s: %s.hlog holds %d segments, the summary %d", dir, results.FileName(r.Name), len(parts), len(segs))
		}
		for i, seg := range segs {
			if parts[i].Name != "" && parts[i].Name != seg.Name {
				return fmt.Errorf("%s: %s.hlog's segment %d is %s, the summary's %s", dir, results.FileName(r.Name), i+1, parts[i].Name, seg.Name)
			}
			seg.IntervalLog = parts[i].Log
		}
	}
	for _, seg := range s.Segments {
		if err := histogramsOf(seg); err != nil {
			return fmt.Errorf("%s: segment %s: %w", dir, seg.Name, err)
		}
	}
	return intervalsOf(dir, byName)
}
