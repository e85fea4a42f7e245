// Package conformance holds the expected-failures files of the MCP
// conformance suite runs (make conformance) and tests the harness itself:
// the files' syntax, and scripts/conformance.sh end to end against a fake
// suite and a fake server (Node, any version from 18 on: .tools/node22 when
// installed, else node on PATH).
package conformance

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var entryRE = regexp.MustCompile(`^([A-Za-z0-9._-]+)(/[A-Za-z0-9._:-]+)?\s*#\s*\S`)

// TestExpectedFiles checks every *.expected file: each entry is SCENARIO or
// SCENARIO/CHECK-ID with a reason, none repeats, and no scenario is listed
// both whole and by check.
func TestExpectedFiles(t *testing.T) {
	files, _ := filepath.Glob("*.expected")
	if len(files) == 0 {
		t.Fatal("no *.expected files")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		whole, byCheck := map[string]bool{}, map[string]bool{}
		seen := map[string]int{}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			m := entryRE.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s:%d: want `SCENARIO[/CHECK-ID]  # reason`, got %q", f, n, line)
				continue
			}
			entry := m[1] + m[2]
			if prev, ok := seen[entry]; ok {
				t.Errorf("%s:%d: %s already on line %d", f, n, entry, prev)
			}
			seen[entry] = n
			if m[2] == "" {
				whole[m[1]] = true
			} else {
				byCheck[m[1]] = true
			}
		}
		fh.Close()
		for s := range whole {
			if byCheck[s] {
				t.Errorf("%s: %s is listed whole and by check", f, s)
			}
		}
	}
}

// TestConfigurationsHaveFiles: every configuration conformance.mk runs has
// its expected-failures file.
func TestConfigurationsHaveFiles(t *testing.T) {
	mk, err := os.ReadFile("../../../conformance.mk")
	if err != nil {
		t.Skip("no conformance.mk:", err)
	}
	m := regexp.MustCompile(`(?m)^conformance_cmd_([A-Za-z0-9-]+)\s*:=`).FindAllSubmatch(mk, -1)
	if len(m) == 0 {
		t.Fatal("conformance.mk defines no conformance_cmd_NAME")
	}
	for _, c := range m {
		if _, err := os.Stat(string(c[1]) + ".expected"); err != nil {
			t.Errorf("configuration %s: %v", c[1], err)
		}
	}
}

func findNode(t *testing.T) string {
	if p, err := filepath.Abs("../../../.tools/node22/node_modules/.bin/node"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node: the harness test needs Node")
	}
	out, err := exec.Command(p, "-p", "process.versions.node.split('.')[0]").Output()
	if v, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || v < 18 {
		t.Skipf("node %s is older than 18", strings.TrimSpace(string(out)))
	}
	return p
}

// alive tells whether pid runs: a zombie (its parent gone, not yet reaped
// by init) does not.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

type harnessRun struct {
	out    string
	code   int
	child  int // the fake server's child process
	server string
}

// runHarness runs scripts/conformance.sh with the fake suite and server.
func runHarness(t *testing.T, expected, results string, env ...string) harnessRun {
	t.Helper()
	node := findNode(t)
	for _, tool := range []string{"bash", "setsid", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dir := t.TempDir()
	exp := filepath.Join(dir, "x.expected")
	if err := os.WriteFile(exp, []byte(expected), 0o644); err != nil {
		t.Fatal(err)
	}
	childFile := filepath.Join(dir, "child.pid")
	script, _ := filepath.Abs("../../../scripts/conformance.sh")
	suite, _ := filepath.Abs("testdata/fakesuite.mjs")
	server, _ := filepath.Abs("testdata/fakeserver.mjs")
	cmd := exec.Command("bash", script, "fake", exp, "--", node, server)
	cmd.Env = append(os.Environ(),
		"CONFORMANCE_NODE="+node, "CONFORMANCE_CLI="+suite,
		"CONFORMANCE_OUT="+filepath.Join(dir, "out"),
		"FAKE_RESULTS="+results, "FAKE_CHILD_PID="+childFile)
	cmd.Env = append(cmd.Env, env...)
	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill(); close(done) })
	out, err := cmd.CombinedOutput()
	timer.Stop()
	select {
	case <-done:
		t.Fatalf("harness hung:\n%s", out)
	default:
	}
	r := harnessRun{out: string(out), server: server}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(childFile); err == nil {
		r.child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	// The server's whole process group is gone once the script returns.
	if r.child > 0 {
		deadline := time.Now().Add(5 * time.Second)
		for alive(r.child) {
			if time.Now().After(deadline) {
				syscall.Kill(r.child, syscall.SIGKILL)
				t.Errorf("the server's child %d outlived the harness", r.child)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	} else {
		t.Errorf("the fake server never started:\n%s", out)
	}
	return r
}

func TestHarness(t *testing.T) {
	// The fake suite's list is these scenarios, unless FAKE_REQUIRED or
	// FAKE_NOT_SCORED say otherwise; allExpected lists all that fail. A
	// case's env comes last, and os/exec keeps the last of a repeated key, so
	// FAKE_RESULTS there replaces results.
	const results = "a=ok b=feature c=feature,other d=none e=ok"
	const allExpected = "b # whole scenario\nc/feature # one check\nc/other # another\nd # wrote nothing\n"
	cases := []struct {
		name, expected string
		env            []string
		code           int
		want           []string
	}{
		{"all as expected",
			allExpected, nil, 0,
			[]string{"fake: 2 passed, 0 failed, 3 skipped"}},
		{"unexpected failure",
			"b # whole\nc/feature # only this one\nd # nothing\n", nil, 1,
			[]string{"UNEXPECTED FAILURE c: 1 failed check(s): other: other broke", "fake: 2 passed, 1 failed, 2 skipped", "draft.expected"}},
		{"no results is a failure",
			"b # x\nc # x\n", nil, 1,
			[]string{"UNEXPECTED FAILURE d: 1 failed check(s): no-results"}},
		{"stale entry fails",
			"a # passes in fact\nb # x\nc # x\nd # x\n", nil, 1,
			[]string{"UNEXPECTEDLY PASSED a (listed: passes in fact)", "fake: 1 passed, 1 failed, 3 skipped"}},
		{"stale check fails",
			"a/wire-schema-valid # passes in fact\nb # x\nc # x\nd # x\n", nil, 1,
			[]string{"UNEXPECTEDLY PASSED a/wire-schema-valid"}},
		{"stale entry only warns on request",
			"a # passes in fact\nb # x\nc # x\nd # x\n", []string{"CONFORMANCE_STALE=warn"}, 0,
			[]string{"UNEXPECTEDLY PASSED a", "WARNING: 1 listed failure(s) passed"}},
		{"listed but not run",
			"b # x\nc # x\nd # x\nzz # typo\ne/nope # typo\n", nil, 1,
			[]string{"NOT RUN zz is listed", "NOT RUN e/nope is listed"}},
		{"a required scenario of the suite's list did not run",
			allExpected, []string{"FAKE_REQUIRED=a b c d e f"}, 1,
			[]string{"NOT RUN f: in the suite's list (required) but the suite did not run it", "fake: 2 passed, 1 failed, 3 skipped"}},
		{"an unscored scenario of the suite's list did not run",
			allExpected, []string{"FAKE_NOT_SCORED=g"}, 1,
			[]string{"NOT RUN g: in the suite's list (run, not scored)", "1 of the suite's list not run"}},
		{"a scenario listed as expected to fail must still run",
			allExpected + "f # x\n", []string{"FAKE_REQUIRED=a b c d e f"}, 1,
			[]string{"NOT RUN f: in the suite's list (required) but the suite did not run it (listed in", "0 listed but not run, 1 of the suite's list not run"}},
		{"the suite exits non-zero with no failure",
			"", []string{"FAKE_RESULTS=a=ok e=ok", "FAKE_EXIT=1"}, 1,
			[]string{"SUITE EXITED 1", "fake suite: exiting 1 as told", "fake: 2 passed, 1 failed, 0 skipped"}},
		{"the suite crashes after listed failures",
			allExpected, []string{"FAKE_EXIT=2"}, 1,
			[]string{"SUITE EXITED 2", "fake suite: exiting 2 as told", "fake: 2 passed, 1 failed, 3 skipped"}},
		{"the suite exits 1 when only an unscored scenario fails",
			"g # x\n", []string{"FAKE_RESULTS=a=ok g=feature", "FAKE_REQUIRED=a", "FAKE_NOT_SCORED=g", "FAKE_EXIT=1"}, 1,
			[]string{"SUITE EXITED 1", "fake: 1 passed, 1 failed, 1 skipped"}},
		{"an unscored listed failure leaves the suite's exit 0",
			"g # x\n", []string{"FAKE_RESULTS=a=ok g=feature", "FAKE_REQUIRED=a", "FAKE_NOT_SCORED=g"}, 0,
			[]string{"fake: 1 passed, 0 failed, 1 skipped"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runHarness(t, c.expected, results, c.env...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d:\n%s", r.code, c.code, r.out)
			}
			for _, w := range c.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.out)
				}
			}
		})
	}
}

func TestHarnessRejectsBadFiles(t *testing.T) {
	for name, expected := range map[string]string{
		"no reason":  "a\n",
		"repeated":   "a # x\na/b # y\n",
		"not a name": "a b # x\n",
	} {
		t.Run(name, func(t *testing.T) {
			node := findNode(t)
			dir := t.TempDir()
			exp := filepath.Join(dir, "x.expected")
			os.WriteFile(exp, []byte(expected), 0o644)
			script, _ := filepath.Abs("../../../scripts/conformance.sh")
			suite, _ := filepath.Abs("testdata/fakesuite.mjs")
			// The server would fail the run if it ever started.
			cmd := exec.Command("bash", script, "fake", exp, "--", "false")
			cmd.Env = append(os.Environ(), "CONFORMANCE_NODE="+node, "CONFORMANCE_CLI="+suite)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "x.expected:") {
				t.Errorf("want a complaint about x.expected and a failure, got %v:\n%s", err, out)
			}
		})
	}
}
