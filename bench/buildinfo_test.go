package bench

import (
	"encoding/json"
	"runtime/debug"
	"testing"
)

func TestBuildOf(t *testing.T) {
	const rev = "2bde692e0c4b1f3f9a7d2c6e8b5a1d0f3c9e7b41"
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name                      string
		bi                        *debug.BuildInfo
		version, commit, dirty, t string
	}{
		{"no build info", nil, "dev", Unknown, Unknown, ""},
		{"go test binary", &debug.BuildInfo{GoVersion: "go1.26.8"}, "dev", Unknown, Unknown, ""},
		{"go run: devel, no vcs", &debug.BuildInfo{Main: debug.Module{Path: "github.com/mcpbench/mcpbench", Version: "(devel)"},
			Settings: settings("-compiler", "gc", "GOOS", "linux")}, "dev", Unknown, Unknown, ""},
		{"clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261125100600-2bde692e0c4b"},
			Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-25T10:06:00Z", "vcs.modified", "false")},
			"v0.0.0-20261125100600-2bde692e0c4b", rev, "false", "2026-11-25T10:06:00Z"},
		{"modified tree", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261125100600-2bde692e0c4b+dirty"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"v0.0.0-20261125100600-2bde692e0c4b+dirty", rev, "true", ""},
		{"modified not a bool", &debug.BuildInfo{Settings: settings("vcs.revision", rev, "vcs.modified", "maybe")},
			"dev", rev, Unknown, ""},
		{"empty revision", &debug.BuildInfo{Settings: settings("vcs.revision", "", "vcs.modified", "false")},
			"dev", Unknown, "false", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := buildOf(tc.bi)
			if b.Version != tc.version || b.Commit != tc.commit || b.DirtyString() != tc.dirty || b.Time != tc.t {
				t.Errorf("got %+v (dirty %s), want version %q commit %q dirty %s time %q", b, b.DirtyString(), tc.version, tc.commit, tc.dirty, tc.t)
			}
		})
	}
}

// An unknown dirty flag is written as null, not as false.
func TestBuildJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Build
		want string
	}{
		{"unknown", buildOf(nil), `{"version":"dev","commit":"unknown","dirty":null}`},
		{"stamped", buildOf(&debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}, {Key: "vcs.time", Value: "2026-11-25T10:06:00Z"}}}),
			`{"version":"dev","commit":"abc","dirty":false,"time":"2026-11-25T10:06:00Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, err := json.Marshal(tc.b)
			if err != nil || string(js) != tc.want {
				t.Errorf("got %s (%v), want %s", js, err, tc.want)
			}
		})
	}
}
