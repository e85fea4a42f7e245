// Package reference holds no code: its test checks that README.md here
// lists every reference run with the commit its summary.json records.
package reference

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
)

// pendingEnv, set to 1, skips the check of the real reference runs while
// they are being redone.
const pendingEnv = "MCPBENCH_REFERENCE_PENDING"

func TestReferenceRuns(t *testing.T) {
	if os.Getenv(pendingEnv) == "1" {
		t.Skipf("%s=1: the reference runs are being redone; README.md and summary.json commits are not checked", pendingEnv)
	}
	for _, err := range check(".") {
		t.Error(err)
	}
}

// entry is one row of README.md's table.
type entry struct {
	dir, command, commit string
	line                 int
}

var (
	header    = []string{"directory", "command", "commit"}
	separator = regexp.MustCompile(`^:?-{3,}:?$`)
	shortHash = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
)

// parseIndex reads the | directory | command | commit | table: the header
// row, a separator row, then one row per directory until the first line
// that is not a table row. Cells may be in backquotes.
func parseIndex(r io.Reader) ([]entry, error) {
	sc := bufio.NewScanner(r)
	n := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		return strings.TrimSpace(sc.Text()), true
	}
	found := false
	for !found {
		l, ok := next()
		if !ok {
			if err := sc.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("README.md has no table headed | directory | command | commit |")
		}
		found = slices.Equal(cells(l), header)
	}
	if l, _ := next(); !isSeparator(l) {
		return nil, fmt.Errorf("README.md:%d: want the separator row |---|---|---| under the header, got %q", n, l)
	}
	var es []entry
	seen := map[string]int{}
	for {
		l, ok := next()
		if !ok || !strings.HasPrefix(l, "|") {
			break
		}
		c := cells(l)
		if len(c) != 3 {
			return nil, fmt.Errorf("README.md:%d: want 3 cells (directory, command, commit), got %d: %q", n, len(c), l)
		}
		e := entry{dir: c[0], command: c[1], commit: c[2], line: n}
		switch {
		case e.dir == "" || strings.ContainsAny(e.dir, `/\`):
			return nil, fmt.Errorf("README.md:%d: directory %q is not a plain name", n, e.dir)
		case e.command == "":
			return nil, fmt.Errorf("README.md:%d: %s has no command", n, e.dir)
		case !shortHash.MatchString(e.commit):
			return nil, fmt.Errorf("README.md:%d: %s: commit %q is not 7 to 40 lower-case hex digits", n, e.dir, e.commit)
		case seen[e.dir] != 0:
			return nil, fmt.Errorf("README.md:%d: %s is listed again (first on line %d)", n, e.dir, seen[e.dir])
		}
		seen[e.dir] = n
		es = append(es, e)
	}
	return es, sc.Err()
}

// cells splits a table row into its trimmed cells, backquotes removed.
func cells(l string) []string {
	if !strings.HasPrefix(l, "|") || !strings.HasSuffix(l, "|") || len(l) < 2 {
		return nil
	}
	c := strings.Split(l[1:len(l)-1], "|")
	for i := range c {
		c[i] = strings.Trim(strings.TrimSpace(c[i]), "`")
	}
	return c
}

func isSeparator(l string) bool {
	c := cells(l)
	for _, s := range c {
		if !separator.MatchString(s) {
			return false
		}
	}
	return len(c) == len(header)
}

// check compares root/README.md with the directories under root: every
// directory needs a row, every row a directory, and each row's commit must
// begin the build.commit its directory's summary.json records.
func check(root string) []error {
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		return []error{err}
	}
	defer f.Close()
	es, err := parseIndex(f)
	if err != nil {
		return []error{err}
	}
	listed := map[string]entry{}
	for _, e := range es {
		listed[e.dir] = e
	}
	des, err := os.ReadDir(root)
	if err != nil {
		return []error{err}
	}
	var errs []error
	dirs := map[string]bool{}
	for _, de := range des {
		name := de.Name()
		if !de.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" {
			continue
		}
		dirs[name] = true
		e, ok := listed[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no row in README.md: add | %s | COMMAND | COMMIT |", name, name))
			continue
		}
		if err := checkCommit(filepath.Join(root, name), e); err != nil {
			errs = append(errs, err)
		}
	}
	for _, e := range es {
		if !dirs[e.dir] {
			errs = append(errs, fmt.Errorf("README.md:%d lists %s, which is not a directory here", e.line, e.dir))
		}
	}
	return errs
}

// checkCommit compares a row's commit with the one dir's summary.json records.
func checkCommit(dir string, e entry) error {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return fmt.Errorf("%s: %v", e.dir, err)
	}
	var s results.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s/summary.json: %v", e.dir, err)
	}
	switch c := s.Build.Commit; {
	case c == "" || c == bench.Unknown:
		return fmt.Errorf("%s: no commit recorded in summary.json: redo this reference run (README.md says %s)", e.dir, e.commit)
	case !strings.HasPrefix(c, e.commit):
		return fmt.Errorf("README.md:%d: %s was made from commit %s (its summary.json), not %s", e.line, e.dir, c, e.commit)
	}
	return nil
}
