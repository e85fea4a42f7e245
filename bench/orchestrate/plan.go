package orchestrate

import (
	"fmt"
	"time"

	"github.com/mcpbench/mcpbench/bench/scenario"
)

// step is one segment of a plan: a variant, in a round (from 0).
type step struct {
	variant string
	round   int
}

// plan lays out a scenario's segments in the order they run. names are
// every variant in the scenario's order, floors included; compared says
// which are drawn against the baseline (the others are measured only).
func plan(order, baseline string, names []string, compared func(string) bool, rounds int) []step {
	var steps []step
	if order == scenario.OrderRotate || baseline == "" {
		for r := 0; r < rounds; r++ {
			for k := range names {
				steps = append(steps, step{names[(r+k)%len(names)], r})
			}
		}
		return steps
	}
	var cmp, others []string
	for _, n := range names {
		switch {
		case n == baseline:
		case compared(n):
			cmp = append(cmp, n)
		default:
			others = append(others, n)
		}
	}
	for r := 0; r < rounds; r++ {
		if len(steps) == 0 || steps[len(steps)-1].variant != baseline {
			steps = append(steps, step{baseline, r})
		}
		for k := range cmp {
			i := (r + k) % len(cmp)
			if r%2 == 1 { // reversed every other round: each variant meets both ends of a round
				i = (r + len(cmp) - 1 - k) % len(cmp)
			}
			steps = append(steps, step{cmp[i], r}, step{baseline, r})
		}
		for _, v := range others {
			steps = append(steps, step{v, r})
		}
	}
	return steps
}

// partners are the plan indices of the baseline segments that the
// segment at i is compared with: its neighbours (adjacent), or the
// baseline's segment in the same round (rotate).
func partners(steps []step, i int, order, baseline string) []int {
	var out []int
	if order == scenario.OrderRotate {
		for j, s := range steps {
			if s.variant == baseline && s.round == steps[i].round {
				out = append(out, j)
			}
		}
		return out
	}
	for _, j := range []int{i - 1, i + 1} {
		if j >= 0 && j < len(steps) && steps[j].variant == baseline {
			out = append(out, j)
		}
	}
	return out
}

// planTime estimates how long a plan's segments take to run: each
// segment's warm-up and measured length, and about 10ms of setup.
func planTime(steps []step, segment, warmup time.Duration) time.Duration {
	return time.Duration(len(steps)) * (segment + warmup + 10*time.Millisecond)
}

// describePlan says in a line what a plan will do.
func describePlan(s *scenario.Scenario, steps []step) string {
	return fmt.Sprintf("%d variants, %d rounds, order %s: %d segments of %v after %v of warm-up, about %v",
		len(s.Variants), s.Rounds, s.Order, len(steps), s.Segment, s.Warmup, planTime(steps, s.Segment, s.Warmup).Round(time.Second))
}
