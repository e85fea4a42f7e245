// Package golden compares what a test produced with a file kept in the
// repository, the way every golden test here does: `go test -update`
// rewrites the files instead, to be read in the diff before committing.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is -update, registered once per test binary whichever package
// asks first.
func update() bool {
	f := flag.Lookup("update")
	if f == nil {
		flag.Bool("update", false, "rewrite the golden files instead of comparing with them")
		f = flag.Lookup("update")
	}
	return f.Value.String() == "true"
}

func init() { update() }

// Check compares got with the file at path; with -update it writes got
// there instead (making the directory).
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update only if the change is meant):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
