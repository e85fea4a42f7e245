package results

import (
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

// ScenarioReport is what a scenario run adds to summary.json: the plan it
// ran and the comparisons drawn from it. Latencies are in nanoseconds.
type ScenarioReport struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	File        string        `json:"file"`
	Baseline    string        `json:"baseline"`
	Rounds      int           `json:"rounds"`
	Segment     time.Duration `json:"segment_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	// Order is how segments followed each other: "adjacent" (each
	// compared segment between two of the baseline's) or "rotate".
	Order      string            `json:"order"`
	Variants   []VariantReport   `json:"variants"`
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	Saturation []SaturationRun   `json:"saturation,omitempty"`
	Tokenomics []TokenomicsRow   `json:"tokenomics,omitempty"`
	// Failed names variants that could not run, with why.
	Failed map[string]string `json:"failed,omitempty"`
	// Warnings are what the run found doubtful: a calibration row that
	// missed its known answer, segments whose checks failed, figures not
	// measured. Each says which variant.
	Warnings []string `json:"warnings,omitempty"`
}

// VariantReport is one variant: how it was configured, its figures per
// round, and its deltas against the baseline (nil for the baseline
// itself and for floor rows).
type VariantReport struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"` // stack, impl, transport, auth, alg, cache…
	Floor  bool              `json:"floor,omitempty"`
	// RoundP50 and RoundP99 are each round's response-time percentiles.
	RoundP50 []int64      `json:"round_p50_ns"`
	RoundP99 []int64      `json:"round_p99_ns"`
	DeltaP50 *bench.Delta `json:"delta_p50_ns,omitempty"`
	DeltaP99 *bench.Delta `json:"delta_p99_ns,omitempty"`
	// DeltaCPU is the server CPU per call against the baseline's.
	DeltaCPU *bench.Delta `json:"delta_server_cpu_per_call_ns,omitempty"`
	// Calibration is set on a row whose difference is known by
	// construction (a server that burns a known CPU time per call).
	Calibration *Calibration `json:"calibration,omitempty"`
	// Bytes per call, each way, headers included.
	RequestBytes  float64 `json:"request_bytes_per_call,omitempty"`
	ResponseBytes float64 `json:"response_bytes_per_call,omitempty"`
}

// ThresholdResult is one threshold checked against one variant.
type ThresholdResult struct {
	Variant string  `json:"variant"`
	Metric  string  `json:"metric"` // p50, p99, errors, min_rate…
	Limit   float64 `json:"limit"`  // ns, a fraction, or requests/s
	Value   float64 `json:"value"`
	Passed  bool    `json:"passed"`
}

// SaturationRun is one variant's rate search.
type SaturationRun struct {
	Variant string            `json:"variant"`
	Steps   []SaturationPoint `json:"steps"`
	// Sustainable is the highest target rate held: p99 within the SLO and
	// achieved within 2% of the target.
	Sustainable float64 `json:"sustainable_rate"`
	StoppedBy   string  `json:"stopped_by"`
}

// SaturationPoint is one step of a saturation run.
type SaturationPoint struct {
	Target   float64 `json:"target_rate"`
	Achieved float64 `json:"achieved_rate"`
	P50      int64   `json:"p50_ns"`
	P99      int64   `json:"p99_ns"`
	Errors   uint64  `json:"errors"`
	// Accounting is the step's: what became of every call it scheduled.
	Accounting bench.Accounting `json:"accounting"`
}

// TokenomicsRow amortises getting a token over the calls it serves.
type TokenomicsRow struct {
	Variant  string        `json:"variant"`
	Lifetime time.Duration `json:"token_lifetime_ns"`
	Rate     float64       `json:"calls_per_second"`
	// TokenCost is the client's token request, measured: the mean over
	// Samples segments.
	TokenCost time.Duration `json:"token_cost_ns"`
	Samples   int           `json:"token_cost_samples"`
	// Fresh says every call had a token of its own: one call per token.
	Fresh bool `json:"fresh_tokens,omitempty"`
	// CallsPerToken is how many calls one token serves: the rate times the
	// lifetime, or 1 for fresh tokens.
	CallsPerToken float64 `json:"calls_per_token"`
	// PerCall is TokenCost over CallsPerToken.
	PerCall float64 `json:"token_cost_per_call_ns"`
}

// Calibration checks a row whose Δp50 is known: the run can be trusted to
// resolve differences of that size when the interval holds the known
// value and is narrow enough to tell it from zero.
type Calibration struct {
	Known time.Duration `json:"known_ns"`
	// Contains says the Δp50 95% interval holds Known.
	Contains bool `json:"contains_known"`
	// Resolved says the interval's half-width is within the goal:
	// max(10µs, 10% of |Δp50|).
	Resolved bool `json:"resolved"`
}

// Passed says the calibration row came out as it must.
func (c *Calibration) Passed() bool { return c.Contains && c.Resolved }
