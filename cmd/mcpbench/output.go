package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
	"golang.org/x/term"
)

// saveResults writes s under dir, or under results/COMMAND/TIMESTAMP when
// dir is empty, and returns where. A directory that exists by then (made
// while the run went on) is not overwritten and the results are not lost:
// they go to DIR-2, DIR-3, …, with a warning.
func saveResults(command, dir string, s *results.Summary) (string, error) {
	base, chosen := dir, dir != ""
	if !chosen {
		base = filepath.Join("results", command, s.Created.Format("20060102-150405"))
	}
	dir = base
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
	if chosen && dir != base {
		fmt.Fprintf(errOut, "warning: %s exists; the results go to %s instead\n", base, dir)
	}
	return dir, results.WriteResults(dir, s)
}

// checkOut refuses, before anything runs, a results directory that exists:
// finding out after a long run would be too late to choose another.
func checkOut(dirs ...string) error {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(d); err == nil {
			return fmt.Errorf("%w: the results directory %s exists; give -o a new one (results are never written over)", errUsage, d)
		}
	}
	return nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progressWanted reads --progress.
func progressWanted(mode string) (bool, error) {
	switch mode {
	case "on":
		return true, nil
	case "off":
		return false, nil
	case "auto":
		return term.IsTerminal(int(os.Stderr.Fd())), nil
	}
	return false, fmt.Errorf("%w: --progress is auto, on or off, not %q", errUsage, mode)
}

// progress rewrites one status line on stderr after each interval.
type progress struct {
	name  string
	shown bool
}

// interval is a bench.Config.OnInterval.
func (p *progress) interval(iv bench.Interval) {
	if iv.Warmup {
		// Warm-up calls are not recorded: there is nothing to show but the clock.
		fmt.Fprintf(errOut, "\r\033[K%s warm-up %5.1fs  in flight %d", p.name, iv.End.Seconds(), iv.InFlight)
		p.shown = true
		return
	}
	target := ""
	if iv.Target > 0 {
		target = fmt.Sprintf(" (target %.0f)", iv.Target)
	}
	errs := iv.Completed() - iv.ByClass[bench.OK]
	fmt.Fprintf(errOut, "\r\033[K%s %5.1fs  %.0f/s%s  p50 %s  p99 %s  max %s  errors %d  in flight %d",
		p.name, iv.End.Seconds(), iv.Rate(), target,
		results.FormatNs(iv.Response.P50), results.FormatNs(iv.Response.P99), results.FormatNs(iv.Response.Max),
		errs, iv.InFlight)
	p.shown = true
}

// end finishes the status line, if there is one.
func (p *progress) end() {
	if p != nil && p.shown {
		fmt.Fprintln(errOut)
		p.shown = false
	}
}
