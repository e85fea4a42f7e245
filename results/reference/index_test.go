package reference

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
)

const table = `# Reference results

Some prose | with a bar.

| directory | command | commit |
|---|---|---|
| default | ` + "`mcpbench run scenarios/default.yaml`" + ` | 40f4f99 |
| overload | mcpbench run scenarios/overload.yaml | 5f51399a |

After the table.
| not | a | row of it |
`

func TestParseIndex(t *testing.T) {
	es, err := parseIndex(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{"default", "mcpbench run scenarios/default.yaml", "40f4f99", 7},
		{"overload", "mcpbench run scenarios/overload.yaml", "5f51399a", 8},
	}
	if len(es) != len(want) {
		t.Fatalf("got %+v, want %+v", es, want)
	}
	for i := range want {
		if es[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, es[i], want[i])
		}
	}
}

func TestParseIndexRefuses(t *testing.T) {
	const head = "| directory | command | commit |\n|---|---|---|\n"
	for _, tc := range []struct{ name, readme, want string }{
		{"no table", "# Reference results\n\nprose\n", "no table headed"},
		{"other header", "| dir | command | commit |\n|---|---|---|\n| a | b | 40f4f99 |\n", "no table headed"},
		{"no separator", "| directory | command | commit |\n| a | b | 40f4f99 |\n", "README.md:2: want the separator row"},
		{"two cells", head + "| a | 40f4f99 |\n", "README.md:3: want 3 cells"},
		{"four cells", head + "| a | b | 40f4f99 | x |\n", "want 3 cells"},
		{"short commit", head + "| a | b | 40f4f9 |\n", `commit "40f4f9" is not`},
		{"not hex", head + "| a | b | HEAD~1x |\n", `commit "HEAD~1x" is not`},
		{"upper case", head + "| a | b | 40F4F99 |\n", "is not 7 to 40"},
		{"no commit", head + "| a | b |  |\n", `commit "" is not`},
		{"no command", head + "| a |  | 40f4f99 |\n", "a has no command"},
		{"path", head + "| a/b | c | 40f4f99 |\n", "not a plain name"},
		{"twice", head + "| a | b | 40f4f99 |\n| a | c | 2bde692 |\n", "README.md:4: a is listed again (first on line 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := parseIndex(strings.NewReader(tc.readme))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %+v, %v; want an error with %q", es, err, tc.want)
			}
		})
	}
}

// TestCheck runs the check on made-up reference directories.
func TestCheck(t *testing.T) {
	const (
		full  = "2bde692e0c4b1f3f9a7d2c6e8b5a1d0f3c9e7b41"
		other = "40f4f99c2a17d3e5b6f8091a2b3c4d5e6f708192"
	)
	// dir is a directory to make, its summary.json recording commit as
	// build.commit; "-": a summary without build, as those made before it;
	// "": no summary.json.
	type dir struct{ name, commit string }
	rows := func(rs ...string) string {
		return "# Reference\n\n| directory | command | commit |\n|---|---|---|\n" + strings.Join(rs, "\n") + "\n"
	}
	for _, tc := range []struct {
		name   string
		dirs   []dir
		readme string
		want   []string // one per error, in order; none: it passes
	}{
		{"all match", []dir{{"default", full}, {"overload", other}},
			rows("| default | `mcpbench run scenarios/default.yaml` | 2bde692 |", "| overload | `mcpbench run scenarios/overload.yaml` | "+other+" |"), nil},
		{"a directory without a row", []dir{{"default", full}, {"transports", full}},
			rows("| default | `mcpbench run scenarios/default.yaml` | 2bde692 |"),
			[]string{"transports: no row in README.md"}},
		{"a row without a directory", []dir{{"default", full}},
			rows("| default | x | 2bde692 |", "| gone | x | 2bde692 |"),
			[]string{"README.md:6 lists gone, which is not a directory here"}},
		{"another commit", []dir{{"default", other}},
			rows("| default | x | 2bde692 |"),
			[]string{"README.md:5: default was made from commit " + other + " (its summary.json), not 2bde692"}},
		{"a summary from before build.commit", []dir{{"default", "-"}},
			rows("| default | x | 2bde692 |"),
			[]string{"default: no commit recorded in summary.json: redo this reference run"}},
		{"a binary without VCS stamps", []dir{{"default", bench.Unknown}},
			rows("| default | x | 2bde692 |"),
			[]string{"default: no commit recorded in summary.json: redo this reference run"}},
		{"no summary.json", []dir{{"default", ""}},
			rows("| default | x | 2bde692 |"),
			[]string{"default: open"}},
		{"no table", []dir{{"default", full}}, "# Reference\n", []string{"no table headed"}},
		{"hidden and testdata directories are not runs", []dir{{"default", full}, {".default.partial-1", "-"}, {"testdata", "-"}},
			rows("| default | x | 2bde692 |"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tc.dirs {
				p := filepath.Join(root, d.name)
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if d.commit != "" {
					writeSummary(t, p, d.commit)
				}
			}
			if err := os.WriteFile(filepath.Join(root, "README.md"), []byte(tc.readme), 0o644); err != nil {
				t.Fatal(err)
			}
			errs := check(root)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors %v, want %d %q", len(errs), errs, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d: %v, want it to say %q", i, errs[i], w)
				}
			}
		})
	}
}

// writeSummary writes dir/summary.json with build.commit set to commit, or,
// for "-", one with no build record at all, as the summaries made before it.
func writeSummary(t *testing.T, dir, commit string) {
	t.Helper()
	s := results.NewSummary([]string{"mcpbench", "run", "x.yaml"}, results.ThisHost())
	s.Build.Commit = commit
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if commit == "-" {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "build")
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
