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
