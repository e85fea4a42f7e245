package orchestrate

import (
	"fmt"
	"maps"
	"slices"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/mcpbench/mcpbench/bench/scenario"
)

// MergeScenarioShards merges the summaries of N generators that ran
// scenario s together (run --shard I/N, one --start-at) into the summary
// of the whole: each segment of the plan merged across the shards
// (bench.MergeShards: histograms added, percentiles recomputed), then
// every comparison drawn again from the merged segments, with the report
// and charts. Each shard's segments must carry their histograms and
// interval logs. The shards must have run s (its SHA-256), with the same
// plan, each segment on every shard.
func MergeScenarioShards(s *scenario.Scenario, shards []*results.Summary, command []string, host results.Host, logf func(string, ...any)) (*results.Summary, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: none given", bench.ErrShards)
	}
	f := shards[0]
	for _, sh := range shards {
		switch {
		case sh.Scenario == nil:
			return nil, fmt.Errorf("%w: a load result among scenario results", bench.ErrShards)
		case sh.ScenarioSHA256 != s.SHA256:
			return nil, fmt.Errorf("%w: a shard ran another scenario file than %s (SHA-256 %.12s…, not %.12s…)", bench.ErrShards, s.File, sh.ScenarioSHA256, s.SHA256)
		case sh.Scenario.Rounds != f.Scenario.Rounds || sh.Scenario.Segment != f.Scenario.Segment || sh.Scenario.Warmup != f.Scenario.Warmup || sh.Scenario.Order != f.Scenario.Order:
			return nil, fmt.Errorf("%w: the shards ran with different rounds, segments, warm-ups or orders", bench.ErrShards)
		case !slices.Equal(slices.Sorted(maps.Keys(sh.Scenario.Failed)), slices.Sorted(maps.Keys(f.Scenario.Failed))):
			return nil, fmt.Errorf("%w: the shards' failed variants differ (%v, %v): their plans did not run alike", bench.ErrShards,
				slices.Sorted(maps.Keys(f.Scenario.Failed)), slices.Sorted(maps.Keys(sh.Scenario.Failed)))
		}
	}
	// The plan, from the segments' places in it; a segment merged from
	// every shard's segment at that place.
	bySteps := map[int][]*bench.Result{}
	last := -1
	for _, sh := range shards {
		for _, seg := range sh.Segments {
			bySteps[seg.Step] = append(bySteps[seg.Step], seg)
			last = max(last, seg.Step)
		}
	}
	steps := make([]step, last+1)
	done := make([]*bench.Result, last+1)
	for i := range steps {
		segs := bySteps[i]
		if len(segs) == 0 {
			continue
		}
		if len(segs) != len(shards) {
			return nil, fmt.Errorf("%w: segment %s ran on %d of the %d shards", bench.ErrShards, segs[0].Name, len(segs), len(shards))
		}
		steps[i] = step{variant: segs[0].Target, round: segs[0].Round}
		m, err := bench.MergeShards(segs[0].Name, segs)
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", segs[0].Name, err)
		}
		m.Target, m.Step, m.Round = segs[0].Target, i, segs[0].Round
		done[i] = m
	}
	rep := &results.ScenarioReport{Name: s.Name, Description: s.Description, File: s.File, Baseline: s.Baseline,
		Rounds: f.Scenario.Rounds, Segment: f.Scenario.Segment, Warmup: f.Scenario.Warmup, Order: f.Scenario.Order, Failed: maps.Clone(f.Scenario.Failed)}
	if rep.Failed == nil {
		rep.Failed = map[string]string{}
	}
	sc := *s
	sc.Rounds, sc.Segment, sc.Warmup, sc.Order = rep.Rounds, rep.Segment, rep.Warmup, rep.Order
	sum := summariseScenario(&sc, command, host, logf, s.Variants, steps, done, rep)
	if len(rep.Failed) == 0 {
		rep.Failed = nil
	}
	writeFiles(sum, logf)
	return sum, nil
}
