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
	"github.com/mcpbench/mcpbench/bench/results"
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
	for i, dir := range dirs {
		s, err := readResults(dir)
		if err != nil {
			return err
		}
		if s.Scenario != nil {
			return fmt.Errorf("%w: %s is a scenario run: merge takes load results (sharded scenario runs are not built yet)", bench.ErrShards, dir)
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

// loadHistograms reads a run's interval log and timeseries rows back from
// its results directory: its histograms are the sum of the log's
// intervals, which hold every measured call.
func loadHistograms(dir string, r *bench.Result) error {
	name := results.FileName(r.Name)
	b, err := os.ReadFile(filepath.Join(dir, name+".hlog"))
	if err != nil {
		return fmt.Errorf("%w: %v", bench.ErrShards, err)
	}
	ivs, err := bench.ReadIntervalLog(b)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name+".hlog"), err)
	}
	r.IntervalLog = b
	r.Histograms.Response, r.Histograms.Service, r.Histograms.Lag = bench.NewHistogram(), bench.NewHistogram(), bench.NewHistogram()
	for _, iv := range ivs {
		r.Histograms.Response.Merge(iv.Response)
		r.Histograms.Service.Merge(iv.Service)
		r.Histograms.Lag.Merge(iv.Lag)
	}
	if got := uint64(r.Histograms.Response.TotalCount()); got != r.Accounting.OK+r.Accounting.Errors {
		return fmt.Errorf("%s: its interval log holds %d calls, its summary %d: a damaged result", dir, got, r.Accounting.OK+r.Accounting.Errors)
	}
	f, err := os.Open(filepath.Join(dir, "timeseries.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("%s/timeseries.csv: %v", dir, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, k string) float64 { v, _ := strconv.ParseFloat(row[col[k]], 64); return v }
	for _, row := range rows[1:] {
		if row[col["run"]] != r.Name {
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
