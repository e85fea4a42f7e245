// Package benchtest holds helpers for tests of drivers and of what runs
// them: a run that must succeed and balance its books, and a constant
// open-loop schedule.
package benchtest

import (
	"context"
	"testing"

	"github.com/mcpbench/mcpbench/bench"
)

// Constant returns an open-loop schedule of rate calls a second, failing
// the test if rate is not one.
func Constant(t testing.TB, rate float64) bench.Pacer {
	t.Helper()
	p, err := bench.Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// MustRun runs cfg and fails the test if the run returns an error or its
// accounting does not balance.
func MustRun(t testing.TB, ctx context.Context, cfg bench.Config) *bench.Result {
	t.Helper()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := res.Accounting.Check(); err != nil {
		t.Fatal(err)
	}
	return res
}
