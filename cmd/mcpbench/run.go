package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/orchestrate"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/report"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/bench/scenario"
)

const runAbout = `
Run scenario files: start each variant's servers as child processes (on
their own CPUs where the machine has them), run the rounds interleaved (by
default each compared variant's segment between two of the baseline's, so
that every comparison is drawn from segments run next to each other), stop
every child, and write results/<scenario>/<timestamp>/: summary.json,
per-variant .hgrm and .hlog, timeseries.csv, report.md and the charts (PNG
and SVG).
It prints the comparison table, one sentence per comparison, and exits 1
when a threshold of the scenario is missed.

scenarios/README.md documents the file format; scenarios/*.yaml are ready
to run.`

// runFlags are run's flags, as parsed.
type runFlags struct {
	out, cpus, order, progress string
	shard, startAt             string
	slot                       time.Duration
	rounds                     int
	segment, warmup            time.Duration
	warmupSet, noSave          bool
}

func runRun(ctx context.Context, args []string) error {
	fs := newFlags("run", "FILE.yaml... [flags]", runAbout)
	var f runFlags
	fs.StringVarP(&f.out, "out", "o", "", "results directory (default results/SCENARIO/TIMESTAMP); with several files, a parent directory")
	fs.StringVar(&f.cpus, "cpus", "", "generator CPUs (default: the lower half; servers get the rest)")
	fs.IntVar(&f.rounds, "rounds", 0, "override the scenario's rounds")
	fs.DurationVar(&f.segment, "segment", 0, "override the scenario's segment length")
	fs.DurationVar(&f.warmup, "warmup", 0, "override the scenario's warm-up before each segment")
	fs.StringVar(&f.order, "order", "", "override the scenario's order: adjacent (each compared segment between two of the baseline's) or rotate")
	fs.StringVar(&f.progress, "progress", "auto", "live progress line on stderr: auto (when a terminal), on, off")
	fs.BoolVar(&f.noSave, "no-save", false, "do not write a results directory")
	fs.StringVar(&f.shard, "shard", "", "I/N: be shard I of N generators running the scenario together against servers run elsewhere (every variant external): each segment sends its share of the schedule; merge the N results with mcpbench merge")
	fs.StringVar(&f.startAt, "start-at", "", "with --shard: when the first segment starts (RFC 3339, or +DURATION); segment i starts i × --slot later, on every shard alike")
	fs.DurationVar(&f.slot, "slot", 0, "with --shard: the time each segment is given, setup included (default: warm-up + segment + 1s)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: give one or more scenario files (see scenarios/)", errUsage)
	}
	f.warmupSet = fs.Changed("warmup")
	scs, err := loadScenarios(fs.Args(), f)
	if err != nil {
		return err
	}
	if !f.noSave && f.out != "" {
		if err := checkOut(outDirs(f.out, scs)...); err != nil {
			return err
		}
	}
	show, err := progressWanted(f.progress)
	if err != nil {
		return err
	}
	place, err := placement(f.cpus)
	if err != nil {
		return err
	}
	missed := 0
	for _, s := range scs {
		if ctx.Err() != nil {
			break
		}
		n, err := runScenario(ctx, s, place, show, f, len(scs) > 1)
		if err != nil {
			return err
		}
		missed += n
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted: what was measured until then is reported above")
	case missed > 0:
		return fmt.Errorf("%d threshold checks missed", missed)
	}
	return nil
}

// loadScenarios reads the files and applies the flags that override them.
func loadScenarios(files []string, f runFlags) ([]*scenario.Scenario, error) {
	if f.order != "" && !slices.Contains(scenario.Orders, f.order) {
		return nil, fmt.Errorf("%w: --order is %s, not %q", errUsage, strings.Join(scenario.Orders, " or "), f.order)
	}
	var scs []*scenario.Scenario
	for _, file := range files {
		s, err := scenario.Load(file)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if f.rounds > 0 {
			s.Rounds = f.rounds
		}
		if f.segment > 0 {
			s.Segment = f.segment
		}
		if f.warmupSet {
			s.Warmup = f.warmup
		}
		if f.order != "" {
			s.Order = f.order
		}
		scs = append(scs, s)
	}
	return scs, nil
}

// outDirs are the results directories -o names: itself, or one per
// scenario below it when there are several.
func outDirs(out string, scs []*scenario.Scenario) []string {
	if len(scs) == 1 {
		return []string{out}
	}
	var dirs []string
	for _, s := range scs {
		dirs = append(dirs, filepath.Join(out, s.Name))
	}
	return dirs
}

// runScenario runs one scenario, prints its table and writes its results;
// it returns how many threshold checks were missed.
func runScenario(ctx context.Context, s *scenario.Scenario, place proc.Placement, show bool, f runFlags, several bool) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if s.CPUs.Generator != "" || s.CPUs.Servers != "" {
		if place, err = scenarioPlacement(s.CPUs); err != nil {
			return 0, fmt.Errorf("%s: %w", s.File, err)
		}
	}
	host := results.ThisHost()
	host.GeneratorCPUs, host.ServerCPUs, host.CPUNote = proc.FormatCPUList(place.Generator), proc.FormatCPUList(place.Server), place.Note
	fmt.Fprintf(errOut, "%s: generator on CPU %s, servers on CPU %s%s\n", s.Name, host.GeneratorCPUs, host.ServerCPUs, noteSuffix(place.Note))
	var prog *progress
	r := &orchestrate.Runner{Scenario: s, Log: lineWriter{}, Command: os.Args, Host: host,
		Env: orchestrate.Env{Exe: exe, ServerCPUs: place.Server}}
	if err := shardRunner(r, s, f); err != nil {
		return 0, err
	}
	if show {
		prog = &progress{}
		r.OnInterval = func(v string, round int, iv bench.Interval) {
			prog.name = fmt.Sprintf("%s round %d", v, round)
			prog.interval(iv)
		}
		r.Log = progressLog{prog}
	}
	sum, err := r.Run(ctx)
	prog.end()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.File, err)
	}
	dir, saveErr := "", error(nil)
	if !f.noSave {
		d := f.out
		if d != "" && several {
			d = filepath.Join(d, s.Name)
		}
		dir, saveErr = saveResults(s.Name, d, sum)
	}
	missed, err := printScenario(sum) // the figures reach the terminal even when the disk fails
	if err != nil {
		return 0, err
	}
	if saveErr != nil {
		return missed, fmt.Errorf("writing results: %w", saveErr)
	}
	if dir != "" {
		fmt.Fprintf(errOut, "results: %s\n", dir)
	}
	return missed, nil
}

// printScenario prints the table, the sentences and the thresholds; it
// returns how many threshold checks were missed.
func printScenario(sum *results.Summary) (int, error) {
	fmt.Fprintf(out, "\n%s\n", sum.Scenario.Name)
	if err := report.Table(out, sum); err != nil {
		return 0, err
	}
	for _, l := range report.Sentences(sum) {
		fmt.Fprintln(out, "  "+l)
	}
	lines, missed := report.ThresholdLines(sum)
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
	return missed, nil
}

// scenarioPlacement pins the generator and places servers as a scenario's
// cpus key says.
func scenarioPlacement(c scenario.CPUs) (proc.Placement, error) {
	place, err := placement(c.Generator)
	if err != nil || c.Servers == "" {
		return place, err
	}
	srv, err := proc.ParseCPUList(c.Servers)
	if err != nil {
		return place, fmt.Errorf("cpus.servers: %v", err)
	}
	place.Server = srv
	return place, nil
}

// lineWriter writes the runner's log lines to stderr.
type lineWriter struct{}

func (lineWriter) Write(p []byte) (int, error) { return errOut.Write(p) }

// progressLog ends the live line before a log line.
type progressLog struct{ p *progress }

func (l progressLog) Write(b []byte) (int, error) {
	l.p.end()
	return errOut.Write(b)
}

// shardRunner makes r one shard of a scenario run by several generators
// (--shard, --start-at, --slot): only against servers run elsewhere.
func shardRunner(r *orchestrate.Runner, s *scenario.Scenario, f runFlags) error {
	if f.shard == "" {
		if f.startAt != "" || f.slot != 0 {
			return fmt.Errorf("%w: --start-at and --slot are for --shard", errUsage)
		}
		return nil
	}
	var err error
	if r.Shard, err = bench.ParseShard(f.shard); err != nil {
		return fmt.Errorf("%w: --%v", errUsage, err)
	}
	for _, v := range s.Variants {
		if v.Stack != "external" || v.URL == "" || v.Fault != "" {
			return fmt.Errorf("%w: %s: a sharded run drives servers it does not start: variant %s must be stack external with a url (and no fault)", errUsage, s.File, v.Name)
		}
	}
	if s.Floor || s.Saturation != nil || s.Load.Closed {
		return fmt.Errorf("%w: %s: a sharded run has no floor, saturation search or closed loop", errUsage, s.File)
	}
	if f.startAt == "" {
		return fmt.Errorf("%w: --shard needs --start-at, so that the shards' segments run together", errUsage)
	}
	if r.StartAt, err = bench.ParseStartAt(f.startAt, time.Now()); err != nil {
		return fmt.Errorf("%w: --%v", errUsage, err)
	}
	r.Slot = f.slot
	if r.Slot == 0 {
		r.Slot = s.Warmup + s.Segment + time.Second
	}
	if r.Slot <= s.Warmup+s.Segment {
		return fmt.Errorf("%w: --slot %v leaves no time for a segment's setup after its warm-up and segment (%v)", errUsage, r.Slot, s.Warmup+s.Segment)
	}
	return nil
}
