package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestREADMERuns runs the README's try-it block as written, in a
// directory where ./bin/mcpbench is this mcpbench (on a free port instead
// of the one printed), and checks that every relative link of README and
// docs/ names a file that exists.
func TestREADMERuns(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	at := strings.Index(text, "run as written")
	if at < 0 {
		t.Fatal("README has no block it says is run as written")
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(text[at:])
	if m == nil {
		t.Fatal("no sh block after \"run as written\"")
	}
	block := m[1]
	if n := strings.Count(block, "\n"); n > 10 {
		t.Fatalf("the block is %d lines: keep the README's runnable block short", n)
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	if err := os.Symlink(os.Args[0], filepath.Join(dir, "bin", "mcpbench")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	block = strings.ReplaceAll(block, "8931", port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-c", block)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MCPBENCH_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "errors") < 2 || !strings.Contains(string(out), "p50") {
		t.Fatalf("the README's block: %v\n%s", err, out)
	}
	// Links.
	files, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(files, "../../README.md") {
		b, _ := os.ReadFile(f)
		for _, l := range regexp.MustCompile(`\]\(([^)\s]+)\)`).FindAllStringSubmatch(string(b), -1) {
			target := strings.SplitN(l[1], "#", 2)[0]
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", strings.TrimPrefix(f, "../../"), l[1])
			}
		}
	}
}
