// Command mcpbench measures what OAuth token validation costs an MCP call,
// against an API gateway and a GraphQL server doing the same work.
//
//	mcpbench run scenarios/default.yaml            a scenario: servers, interleaved rounds, report
//	mcpbench load URL --rate 1000 --duration 10s   ad-hoc open-loop load on any server
//	mcpbench serve KIND                            run one of the servers
//	mcpbench floor                                 what this machine can do at all
//	mcpbench report|plot DIR                       a results directory's table or charts again
//	mcpbench compare DIR_A DIR_B                   how two results directories differ
//	mcpbench version                               the build, its commit, the host
//
// Every subcommand has --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/spf13/pflag"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands is every subcommand, the one table of them.
var commands = map[string]command{
	"run":     {"run scenario files: servers, interleaved rounds, comparisons with CIs, report and charts", runRun},
	"load":    {"put open-loop (or closed-loop) HTTP or TCP load on a URL and report latency", runLoad},
	"serve":   {"run one of mcpbench's servers until SIGINT/SIGTERM", runServe},
	"floor":   {"measure this machine's floor: raw TCP echo and a minimal HTTP handler", runFloor},
	"report":  {"print a results directory's table again (and rewrite report.md)", runReport},
	"plot":    {"draw a results directory's charts again", runPlot},
	"compare": {"print the deltas between two results directories", runCompare},
	"merge":   {"merge the results of sharded generators (load --shard) losslessly", runMerge},
	"version": {"print mcpbench's version, commit and host", runVersion},
}

// errUsage marks errors in how a command was called: exit code 2.
var errUsage = errors.New("usage")

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

// Main runs one subcommand and returns the process's exit code: 0 success,
// 1 failure, 2 a usage error, 130 interrupted.
func Main(args []string, stdout, stderr io.Writer) int {
	out, errOut = stdout, stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mcpbench: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mcpbench %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "mcpbench %s: %v\n", args[0], err)
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
}

// out and errOut are where commands print; Main sets them.
var out, errOut io.Writer = os.Stdout, os.Stderr

func usage(w io.Writer) {
	fmt.Fprintln(w, "mcpbench measures what OAuth token validation costs an MCP call, side by side with")
	fmt.Fprintln(w, "an API gateway and a GraphQL server, from each request's intended start.")
	fmt.Fprintln(w, "\nUsage: mcpbench COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mcpbench COMMAND --help' for a command's flags.")
}

// newFlags makes a command's flag set, with a usage text that shows how to
// call it.
func newFlags(name, synopsis, about string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: mcpbench %s %s\n\n%s\n\nFlags:\n%s", name, synopsis, strings.TrimSpace(about), fs.FlagUsages())
	}
	return fs
}

// parse parses args and maps flag errors to usage errors.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v (see --help)", errUsage, err)
	}
	return nil
}

func runVersion(ctx context.Context, args []string) error {
	fs := newFlags("version", "", "Print mcpbench's version, the commit it was built from (unknown when the\nbinary was not built inside a git checkout), the Go version and the host.")
	if err := parse(fs, args); err != nil {
		return err
	}
	b, h := bench.ThisBuild(), results.ThisHost()
	host := h.Hostname
	if host == "" {
		host = bench.Unknown
	}
	commitTime := b.Time
	if commitTime == "" {
		commitTime = bench.Unknown
	}
	_, err := fmt.Fprintf(out, "mcpbench %s\ncommit       %s\ndirty        %s\ncommit time  %s\ngo           %s\nhost         %s (%s/%s)\n",
		b.Version, b.Commit, b.DirtyString(), commitTime, h.GoVersion, host, h.OS, h.Arch)
	return err
}
