package orchestrate

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/scenario"
	"github.com/mcpbench/mcpbench/servers/mcp/sdk"
)

// serveEnv makes the test binary stand in for mcpbench's stdio server:
// with it set, `EXE serve mcp --impl sdk --transport stdio` serves what
// that command serves.
const serveEnv = "SCENARIO_TEST_SERVE_STDIO"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "" {
		os.Exit(m.Run())
	}
	if want := []string{"serve", "mcp", "--impl", "sdk", "--transport", "stdio"}; !slices.Equal(os.Args[1:], want) {
		os.Stderr.WriteString("want the arguments " + strings.Join(want, " ") + ", got " + strings.Join(os.Args[1:], " ") + "\n")
		os.Exit(2)
	}
	if err := sdk.ServeStdio(context.Background(), os.Stdin, os.Stdout); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// TestLaunchServerCPU: a variant whose driver starts its servers (stdio,
// an external command) has server CPU on its call path, read from the
// driver, and a run of it reports it (issue 12: shown as "-"); an
// external URL has none, and a note that says so.
func TestLaunchServerCPU(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(serveEnv, "1")
	in := newInfra(Env{Exe: exe})
	defer in.stopAll()
	for _, tc := range []struct {
		name string
		v    scenario.Variant
		cpu  bool
	}{
		{"stdio", scenario.Variant{Name: "s", Stack: "mcp", Impl: "sdk", Transport: "stdio"}, true},
		{"external command", scenario.Variant{Name: "e", Stack: "external", Command: []string{exe, "serve", "mcp", "--impl", "sdk", "--transport", "stdio"}}, true},
		{"external URL", scenario.Variant{Name: "u", Stack: "external", URL: "http://127.0.0.1:1/mcp"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := in.launch(context.Background(), tc.v, scenario.Workload{}, scenario.LoadSpec{Connections: 2}, 300)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.driver.Close()
			if got := len(inst.path) > 0; got != tc.cpu { // what the runner checks before it reads server CPU
				t.Fatalf("server CPU on the call path: %v, want %v", got, tc.cpu)
			}
			if note := inst.cpuNote(); (note == "") != tc.cpu {
				t.Errorf("server CPU note %q", note)
			}
			if !tc.cpu {
				if note := inst.cpuNote(); note != bench.CPUNoteExternal {
					t.Errorf("an external URL's note %q, want %q", note, bench.CPUNoteExternal)
				}
				return
			}
			res, err := bench.Run(context.Background(), bench.Config{Driver: inst.driver, Closed: true, Connections: 2, Requests: 300, ServerCPU: inst.cpu})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accounting.OK != 300 || res.ServerCPU <= 0 || len(res.Warnings) > 0 {
				t.Errorf("accounting %+v, server CPU %v, warnings %q", res.Accounting, res.ServerCPU, res.Warnings)
			}
			before, err := inst.cpu()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bench.Run(context.Background(), bench.Config{Driver: inst.driver, Closed: true, Connections: 2, Requests: 300}); err != nil {
				t.Fatal(err)
			}
			if after, err := inst.cpu(); err != nil || after <= before {
				t.Errorf("300 more calls: server CPU %v (%v), %v before", after, err, before)
			}
		})
	}
}
