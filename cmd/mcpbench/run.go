package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/report"
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

func runRun(ctx context.Context, args []string) error {
	fs := newFlags("run", "FILE.yaml... [flags]", runAbout)
	out := fs.StringP("out", "o", "", "results directory (default results/SCENARIO/TIMESTAMP); with several files, a parent directory")
	cpus := fs.String("cpus", "", "generator CPUs (default: the lower half; servers get the rest)")
	rounds := fs.Int("rounds", 0, "override the scenario's rounds")
	segment := fs.Duration("segment", 0, "override the scenario's segment length")
	warmup := fs.Duration("warmup", 0, "override the scenario's warm-up before each segment")
	order := fs.String("order", "", "override the scenario's order: adjacent (each compared segment between two of the baseline's) or rotate")
	progressMode := fs.String("progress", "auto", "live progress line on stderr: auto (when a terminal), on, off")
	noSave := fs.Bool("no-save", false, "do not write a results directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: give one or more scenario files (see scenarios/)", errUsage)
	}
	var scs []*scenario.Scenario
	for _, f := range fs.Args() {
		s, err := scenario.Load(f)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if *rounds > 0 {
			s.Rounds = *rounds
		}
		if *segment > 0 {
			s.Segment = *segment
		}
		if fs.Changed("warmup") {
			s.Warmup = *warmup
		}
		if *order != "" {
			if !slices.Contains(scenario.Orders, *order) {
				return fmt.Errorf("%w: --order is %s, not %q", errUsage, strings.Join(scenario.Orders, " or "), *order)
			}
			s.Order = *order
		}
		scs = append(scs, s)
	}
	if !*noSave && *out != "" {
		dirs := []string{*out}
		if len(scs) > 1 {
			dirs = dirs[:0]
			for _, s := range scs {
				dirs = append(dirs, filepath.Join(*out, s.Name))
			}
		}
		if err := checkOut(dirs...); err != nil {
			return err
		}
	}
	show, err := progressWanted(*progressMode)
	if err != nil {
		return err
	}
	place, err := placement(*cpus)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	missed := 0
	for _, s := range scs {
		if ctx.Err() != nil {
			break
		}
		if s.CPUs.Generator != "" || s.CPUs.Servers != "" {
			if place, err = scenarioPlacement(s.CPUs); err != nil {
				return fmt.Errorf("%s: %w", s.File, err)
			}
		}
		host := bench.ThisHost()
		host.GeneratorCPUs, host.ServerCPUs, host.CPUNote = proc.FormatCPUList(place.Generator), proc.FormatCPUList(place.Server), place.Note
		fmt.Fprintf(errOut, "%s: generator on CPU %s, servers on CPU %s%s\n", s.Name, host.GeneratorCPUs, host.ServerCPUs, noteSuffix(place.Note))
		var prog *progress
		r := &scenario.Runner{Scenario: s, Log: lineWriter{}, Command: os.Args, Host: host,
			Env: scenario.Env{Exe: exe, ServerCPUs: place.Server}}
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
			return fmt.Errorf("%s: %w", s.File, err)
		}
		dir, saveErr := "", error(nil)
		if !*noSave {
			d := *out
			if d != "" && len(scs) > 1 {
				d = filepath.Join(d, s.Name)
			}
			dir, saveErr = saveResults(filepath.Join("", s.Name), d, sum)
		}
		n, err := printScenario(sum) // the figures reach the terminal even when the disk fails
		if err != nil {
			return err
		}
		missed += n
		if saveErr != nil {
			return fmt.Errorf("writing results: %w", saveErr)
		}
		if dir != "" {
			fmt.Fprintf(errOut, "results: %s\n", dir)
		}
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted: what was measured until then is reported above")
	case missed > 0:
		return fmt.Errorf("%d threshold checks missed", missed)
	}
	return nil
}

// printScenario prints the table, the sentences and the thresholds; it
// returns how many threshold checks were missed.
func printScenario(sum *bench.Summary) (int, error) {
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
