package bench

import (
	"reflect"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	in := []string{"mcpbench", "load", "--mcp", "http://x/mcp", "--client", "bench:s3cret", "--api-key=k1", "-H", "Authorization: Bearer eyJabc",
		"-H", "X-Trace: 1", "--hmac-secret", "abcd", "--header=x-api-key: k2", "--introspect-client=rs:pw", "--rate", "5"}
	want := []string{"mcpbench", "load", "--mcp", "http://x/mcp", "--client", "bench:REDACTED", "--api-key=REDACTED", "-H", "Authorization: REDACTED",
		"-H", "X-Trace: 1", "--hmac-secret", "REDACTED", "--header=x-api-key: REDACTED", "--introspect-client=rs:REDACTED", "--rate", "5"}
	if got := RedactArgs(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if in[5] != "bench:s3cret" {
		t.Error("RedactArgs changed its input")
	}
	s := NewSummary(in, Host{})
	for _, a := range s.Command {
		if strings.Contains(a, "s3cret") || strings.Contains(a, "eyJabc") || strings.Contains(a, "k1") {
			t.Errorf("a secret reached the summary: %q", s.Command)
		}
	}
}
