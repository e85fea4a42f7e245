package scenario

import (
	"path/filepath"
	"testing"
)

// TestShippedScenarios: every scenario in scenarios/ parses.
func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		t.Logf("%s: %d variants", s.Name, len(s.Variants))
	}
}

// TestShippedLikeForLike: within a shipped scenario, every introspection
// variant introspects the same kind of token, so that its rows compare the
// same thing (auth-overhead once had the SDK introspecting JWTs beside the
// fast server introspecting opaque tokens).
func TestShippedLikeForLike(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			continue // TestShippedScenarios reports it
		}
		kinds := map[string]string{}
		for _, v := range s.Variants {
			if v.Auth == "introspect" {
				kinds[v.Tokens] = v.Name
			}
		}
		if len(kinds) > 1 {
			t.Errorf("%s: introspection of different token kinds: %v", f, kinds)
		}
	}
}
