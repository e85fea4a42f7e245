package bench

import "runtime/debug"

// Unknown stands for what the binary was not stamped with.
const Unknown = "unknown"

// Build is the source a binary was built from, as the Go toolchain stamped
// it. go build stamps the VCS settings only when it builds inside a git
// checkout (and not with -buildvcs=false); go test binaries never get them.
// What was not stamped is said to be unknown, never guessed.
type Build struct {
	// Version is the main module's version: a tag, a pseudo-version
	// (v0.0.0-TIME-COMMIT, +dirty when the tree was modified), or "dev".
	Version string `json:"version"`
	// Commit is vcs.revision, the full commit hash, or "unknown".
	Commit string `json:"commit"`
	// Dirty is vcs.modified: the tree had changes not in Commit (untracked
	// files count). Null when unknown.
	Dirty *bool `json:"dirty"`
	// Time is vcs.time, the commit's time (RFC 3339, not the build's);
	// empty when unknown.
	Time string `json:"time,omitempty"`
}

// ThisBuild describes the binary of this process.
func ThisBuild() Build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return buildOf(bi)
}

// Version is the module version mcpbench was built from, or "dev".
func Version() string { return ThisBuild().Version }

// buildOf reads a build's stamps; bi may be nil (no build info at all).
func buildOf(bi *debug.BuildInfo) Build {
	b := Build{Version: "dev", Commit: Unknown}
	if bi == nil {
		return b
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				b.Commit = s.Value
			}
		case "vcs.modified":
			switch s.Value {
			case "true", "false":
				dirty := s.Value == "true"
				b.Dirty = &dirty
			}
		case "vcs.time":
			b.Time = s.Value
		}
	}
	return b
}

// DirtyString says "true", "false" or "unknown".
func (b Build) DirtyString() string {
	if b.Dirty == nil {
		return Unknown
	}
	if *b.Dirty {
		return "true"
	}
	return "false"
}
