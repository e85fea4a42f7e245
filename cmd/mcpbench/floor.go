package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/driver/tcpecho"
	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/results"
)

const floorAbout = `
Measure what this machine can do at all, with the same runner every other
figure comes from: a raw TCP echo round trip and a minimal HTTP handler on
loopback, each server a child process on its own CPU, at a fixed open-loop
rate; then the HTTP handler's closed-loop throughput. Read every other
mcpbench figure against these.`

// floorCase is one row of the floor: a server kind and how to load it.
type floorCase struct {
	name   string
	kind   string
	closed bool
}

var floorCases = []floorCase{
	{name: "tcp-echo", kind: "tcpecho"},
	{name: "http-minimal", kind: "http"},
	{name: "http-minimal-closed", kind: "http", closed: true},
}

func runFloor(ctx context.Context, args []string) error {
	fs := newFlags("floor", "[flags]", floorAbout)
	var lf loadFlags
	lf.register(fs, 2000)
	fs.Lookup("duration").DefValue = "5s"
	lf.duration = 5 * time.Second
	for _, f := range []string{"ramp-to", "step", "step-every", "closed"} {
		fs.MarkHidden(f) // floor runs its own fixed rate and closed loop
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: floor takes no arguments", errUsage)
	}
	if lf.closed || lf.rampTo > 0 || lf.step > 0 {
		return fmt.Errorf("%w: floor runs a fixed rate and a closed loop itself: drop --closed, --ramp-to, --step", errUsage)
	}
	if !lf.noSave {
		if err := checkOut(lf.out); err != nil {
			return err
		}
	}
	place, err := placement(lf.cpus)
	if err != nil {
		return err
	}
	host := results.ThisHost()
	host.GeneratorCPUs, host.ServerCPUs, host.CPUNote = proc.FormatCPUList(place.Generator), proc.FormatCPUList(place.Server), place.Note
	fmt.Fprintf(errOut, "floor: generator on CPU %s, servers on CPU %s%s\n", host.GeneratorCPUs, host.ServerCPUs, noteSuffix(place.Note))

	var runs []*bench.Result
	var runErr error
	for _, fc := range floorCases {
		if ctx.Err() != nil {
			break
		}
		lf := lf
		lf.closed = fc.closed
		if fc.closed {
			lf.rate = 0
		}
		res, err := floorRun(ctx, fc, &lf, place)
		if res != nil {
			runs = append(runs, res)
		}
		if err != nil {
			runErr = fmt.Errorf("%s: %w", fc.name, err)
			if res == nil {
				break
			}
		}
	}
	if len(runs) == 0 {
		return runErr
	}
	return reportLoad(ctx, "floor", &lf, results.NewSummary(os.Args, host, runs...), runErr)
}

// placement pins this process to the generator's CPUs and says where the
// servers go. An explicit list pins the generator there and leaves servers
// the rest.
func placement(genList string) (proc.Placement, error) {
	allowed, err := proc.Allowed()
	if err != nil {
		return proc.Placement{}, err
	}
	place := proc.Plan(allowed)
	if genList != "" {
		gen, err := proc.ParseCPUList(genList)
		if err != nil {
			return place, fmt.Errorf("%w: --cpus: %v", errUsage, err)
		}
		place.Generator = gen
		var rest []int
		for _, c := range allowed {
			if !contains(gen, c) {
				rest = append(rest, c)
			}
		}
		if len(rest) > 0 {
			place.Server, place.Shared, place.Note = rest, false, ""
		} else {
			place.Server, place.Shared, place.Note = allowed, true, "generator and servers share CPUs"
		}
	}
	return place, proc.PinSelf(place.Generator)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// floorRun starts one server as a child, loads it, and stops it.
func floorRun(ctx context.Context, fc floorCase, lf *loadFlags, place proc.Placement) (*bench.Result, error) {
	var stderr strings.Builder
	srv, err := proc.Start(ctx, proc.Options{
		Args:   []string{"serve", fc.kind, "--addr", "127.0.0.1:0", "--cpus", proc.FormatCPUList(place.Server)},
		Stderr: &stderr,
	})
	if err != nil {
		return nil, err
	}
	defer srv.Stop(5 * time.Second)
	cfg, err := lf.config(fc.name)
	if err != nil {
		return nil, err
	}
	cfg.Target = srv.URL()
	cfg.ServerCPU = srv.CPUTime
	var d bench.Driver
	if strings.HasPrefix(srv.URL(), "tcp://") {
		d = &tcpecho.Driver{Addr: strings.TrimPrefix(srv.URL(), "tcp://")}
	} else if d, err = httpcall.New(httpcall.Config{URL: srv.URL(), Connections: cfg.Connections}); err != nil {
		return nil, err
	}
	defer d.Close()
	cfg.Driver = d
	res, err := bench.Run(ctx, cfg)
	lf.prog.end()
	return res, err
}
