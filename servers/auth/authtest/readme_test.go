package authtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestREADMECounts: README states the size of this table as it is for an
// RS256 server (the fullest: every JWT case and the algorithm-confusion
// cases); it once said 37 bad tokens where the table held 33 hostile
// requests and 3 valid ones.
func TestREADMECounts(t *testing.T) {
	env := New(t, Config{Resource: "http://127.0.0.1:1/mcp", Alg: "RS256"})
	hostile, valid := 0, 0
	for _, c := range env.Cases(t) {
		if c.Status == 200 {
			valid++
		} else {
			hostile++
		}
	}
	readme, err := os.ReadFile("../../../docs/METHOD.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(readme)), " ") // line breaks as spaces
	want := fmt.Sprintf("%d hostile requests and %d valid ones", hostile, valid)
	if !strings.Contains(text, want) {
		t.Errorf("docs/METHOD.md does not say %q", want)
	}
}
