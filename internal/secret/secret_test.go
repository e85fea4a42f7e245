package secret

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	in := []string{"mcpbench", "load", "--mcp", "http://x/mcp", "--client", "bench:s3cret", "--api-key=k1", "-H", "Authorization: Bearer eyJabc",
		"-H", "X-Trace: 1", "--hmac-secret", "abcd", "--header=x-api-key: k2", "--introspect-client=rs:pw", "--rate", "5"}
	want := []string{"mcpbench", "load", "--mcp", "http://x/mcp", "--client", "bench:REDACTED", "--api-key=REDACTED", "-H", "Authorization: REDACTED",
		"-H", "X-Trace: 1", "--hmac-secret", "REDACTED", "--header=x-api-key: REDACTED", "--introspect-client=rs:REDACTED", "--rate", "5"}
	if got := Redact(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if in[5] != "bench:s3cret" {
		t.Error("Redact changed its input")
	}
}

func TestReadSecret(t *testing.T) {
	t.Setenv("MCPBENCH_TEST_SECRET", "s3cret")
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("  f1le \nsecond line\n"), 0o600)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"env:MCPBENCH_TEST_SECRET", "s3cret", ""},
		{"@" + file, "f1le", ""},
		{"env:MCPBENCH_TEST_UNSET", "", "the environment has no MCPBENCH_TEST_UNSET"},
		{"env:", "", "the environment has no"},
		{"@" + empty, "", "first line is empty"},
		{"@/nonexistent/x", "", "no such file"},
	} {
		got, err := Read(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Read(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	// References are not secrets: results may keep them.
	in := []string{"--client", "bench:env:X", "--api-key", "@/run/key", "--hmac-secret=env:H", "--client", "b:pw"}
	want := []string{"--client", "bench:env:X", "--api-key", "@/run/key", "--hmac-secret=env:H", "--client", "b:REDACTED"}
	if got := Redact(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
