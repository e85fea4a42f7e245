package bench

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// A Pacer says when each request of an open-loop run is due. It is a pure
// function of the request's number and of elapsed time: no clock, no state,
// safe for concurrent use.
type Pacer interface {
	// Due returns the offset from the start of the schedule at which request
	// n (counting from 0) is due, and false when the schedule never reaches
	// request n (a rate that falls to zero).
	Due(n uint64) (time.Duration, bool)
	// Hits returns how many requests are due in [0, elapsed]: the number of
	// n with Due(n) <= elapsed.
	Hits(elapsed time.Duration) uint64
	// Rate returns the target rate at elapsed, in requests per second.
	Rate(elapsed time.Duration) float64
	// String describes the schedule, e.g. "constant 1000/s".
	String() string
}

// Stage is one piece of a piecewise-linear schedule: the rate moves from
// From to To (requests per second) over Duration.
type Stage struct {
	From, To float64 // requests per second
	Duration time.Duration
}

// Piecewise is a Pacer whose rate is linear within each stage. The last
// stage's end rate holds for ever after, so a run's duration bounds it.
type Piecewise struct {
	stages []Stage
	starts []float64 // offset of each stage's start, seconds
	hits   []float64 // cumulative hits at each stage's start
	label  string
}

var _ Pacer = (*Piecewise)(nil)

// Constant is a Pacer at a fixed rate, in requests per second.
func Constant(rate float64) (*Piecewise, error) {
	return newPiecewise(fmt.Sprintf("constant %s/s", fmtRate(rate)), []Stage{{From: rate, To: rate}})
}

// Ramp is a Pacer whose rate goes linearly from `from` to `to` (per second)
// over `over`, then holds at `to`.
func Ramp(from, to float64, over time.Duration) (*Piecewise, error) {
	if over <= 0 {
		return nil, fmt.Errorf("ramp duration must be positive, got %v", over)
	}
	return newPiecewise(fmt.Sprintf("ramp %s/s→%s/s over %v", fmtRate(from), fmtRate(to), over),
		[]Stage{{From: from, To: to, Duration: over}, {From: to, To: to}})
}

// Steps is a Pacer that starts at `from` per second and adds `step` every
// `every`, for `count` steps in all (the last one holds).
func Steps(from, step float64, every time.Duration, count int) (*Piecewise, error) {
	if every <= 0 || count < 1 {
		return nil, fmt.Errorf("steps need a positive interval and at least one step, got every=%v count=%d", every, count)
	}
	st := make([]Stage, count)
	for i := range st {
		r := from + step*float64(i)
		st[i] = Stage{From: r, To: r, Duration: every}
	}
	return newPiecewise(fmt.Sprintf("steps %s/s +%s/s every %v ×%d", fmtRate(from), fmtRate(step), every, count), st)
}

// Schedule is an open-loop schedule as a user states it, on `load`'s
// command line or in a scenario's load: Rate calls a second, ramping to
// RampTo over Span, or rising by Step every StepEvery through Span; a
// ramp or steps begin after Warmup, which runs at Rate.
type Schedule struct {
	Rate, RampTo, Step float64
	StepEvery          time.Duration
	Warmup, Span       time.Duration
}

// Pacer builds the schedule's Pacer. `load` and `run` both build theirs
// here, so that a scenario's schedule is the command line's.
func (s Schedule) Pacer() (*Piecewise, error) {
	var p *Piecewise
	var err error
	switch {
	case s.RampTo > 0 && s.Step > 0:
		return nil, fmt.Errorf("%w: a ramp and steps are two schedules: choose one", ErrConfig)
	case s.RampTo > 0:
		p, err = Ramp(s.Rate, s.RampTo, s.Span)
	case s.Step > 0:
		if s.StepEvery <= 0 {
			return nil, fmt.Errorf("%w: steps need a positive interval between them", ErrConfig)
		}
		p, err = Steps(s.Rate, s.Step, s.StepEvery, int((s.Span+s.StepEvery-1)/s.StepEvery))
	default:
		return Constant(s.Rate)
	}
	if err != nil || s.Warmup <= 0 {
		return p, err
	}
	// The warm-up runs at the starting rate; the ramp or the steps begin
	// with the measurement.
	return newPiecewise(fmt.Sprintf("%s/s for a %v warm-up, then %s", fmtRate(s.Rate), s.Warmup, p.label),
		append([]Stage{{From: s.Rate, To: s.Rate, Duration: s.Warmup}}, p.stages...))
}

// NewPiecewise builds a Pacer from stages. Every stage but the last needs a
// positive duration; rates must be finite and not negative.
func NewPiecewise(stages []Stage) (*Piecewise, error) {
	parts := make([]string, len(stages))
	for i, s := range stages {
		parts[i] = fmt.Sprintf("%s→%s/s %v", fmtRate(s.From), fmtRate(s.To), s.Duration)
	}
	return newPiecewise("stages "+strings.Join(parts, ", "), stages)
}

func newPiecewise(label string, stages []Stage) (*Piecewise, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("a schedule needs at least one stage")
	}
	st := append([]Stage(nil), stages...)
	positive := false
	for i, s := range st {
		for _, r := range []float64{s.From, s.To} {
			if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
				return nil, fmt.Errorf("stage %d: rate must be a finite number ≥ 0, got %v", i+1, r)
			}
		}
		positive = positive || s.From > 0 || s.To > 0
		last := i == len(st)-1
		switch {
		case s.Duration < 0 || (!last && s.Duration == 0):
			return nil, fmt.Errorf("stage %d: duration must be positive, got %v", i+1, s.Duration)
		case last && s.Duration == 0 && s.From != s.To:
			return nil, fmt.Errorf("stage %d: an open-ended last stage cannot ramp (%v→%v/s): give it a duration", i+1, s.From, s.To)
		}
	}
	if !positive {
		return nil, fmt.Errorf("rate must be positive")
	}
	// The last stage's end rate holds for ever: make that an open stage.
	if l := st[len(st)-1]; l.Duration > 0 {
		if l.From == l.To {
			st[len(st)-1].Duration = 0
		} else {
			st = append(st, Stage{From: l.To, To: l.To})
		}
	}
	p := &Piecewise{label: label, stages: st}
	var t, h float64
	for _, s := range st {
		p.starts = append(p.starts, t)
		p.hits = append(p.hits, h)
		d := s.Duration.Seconds()
		t += d
		h += (s.From + s.To) / 2 * d
	}
	return p, nil
}

// String describes the schedule.
func (p *Piecewise) String() string { return p.label }

// Stages returns a copy of the schedule's stages.
func (p *Piecewise) Stages() []Stage { return append([]Stage(nil), p.stages...) }

// cumulative returns the (fractional) number of requests due by t seconds.
func (p *Piecewise) cumulative(t float64) float64 {
	if t < 0 {
		return 0
	}
	i, tau, _ := p.stageAt(t)
	return p.hits[i] + p.stages[i].From*tau + p.slope(i)*tau*tau/2
}

// stageAt returns the stage that t seconds (≥ 0) fall in and the time into
// it, clipped to its duration; past reports whether t is beyond its end
// (only the last stage can be open-ended).
func (p *Piecewise) stageAt(t float64) (i int, tau float64, past bool) {
	i = sort.SearchFloat64s(p.starts, t)
	if i == len(p.starts) || p.starts[i] > t {
		i--
	}
	tau = t - p.starts[i]
	if d := p.stages[i].Duration.Seconds(); d > 0 && tau > d {
		return i, d, true
	}
	return i, tau, false
}

// slope is stage i's rate change per second.
func (p *Piecewise) slope(i int) float64 {
	s := p.stages[i]
	if s.Duration <= 0 {
		return 0
	}
	return (s.To - s.From) / s.Duration.Seconds()
}

// Due returns when request n is due: the first t at which the cumulative
// schedule reaches n.
func (p *Piecewise) Due(n uint64) (time.Duration, bool) {
	x := float64(n)
	// Request n is due when the cumulative schedule first reaches n: in the
	// first stage whose end count is at least n.
	last := len(p.stages) - 1
	i := sort.Search(last, func(i int) bool { return p.hits[i+1] >= x })
	if i == last && p.stages[last].To == 0 && x > p.hits[last] {
		return 0, false // the schedule stops short of n
	}
	s := p.stages[i]
	need := x - p.hits[i]
	a, r := p.slope(i), s.From
	var tau float64
	switch {
	case need <= 0:
		tau = 0
	case a == 0 && r == 0:
		return 0, false
	case a == 0:
		tau = need / r
	default:
		// r·τ + a·τ²/2 = need, smallest τ ≥ 0. Written to avoid cancellation.
		disc := r*r + 2*a*need
		if disc < 0 {
			return 0, false
		}
		tau = 2 * need / (r + math.Sqrt(disc))
	}
	if d := s.Duration.Seconds(); d > 0 && tau > d {
		tau = d // rounding at a stage boundary
	}
	t := p.starts[i] + tau
	if t > float64(math.MaxInt64)/1e9 {
		return 0, false
	}
	return time.Duration(t * 1e9), true
}

// Hits returns how many requests are due by elapsed.
func (p *Piecewise) Hits(elapsed time.Duration) uint64 {
	if elapsed < 0 {
		return 0
	}
	// The closed form is exact but for rounding; Due decides the boundary.
	n := uint64(math.Max(0, math.Floor(p.cumulative(elapsed.Seconds())))) + 1
	for i := 0; i < 4; i++ {
		if d, ok := p.Due(n); ok && d <= elapsed {
			n++
		} else if d, ok := p.Due(n - 1); n > 0 && (!ok || d > elapsed) {
			n--
		} else {
			break
		}
	}
	return n
}

// Rate returns the target rate at elapsed.
func (p *Piecewise) Rate(elapsed time.Duration) float64 {
	t := elapsed.Seconds()
	if t < 0 {
		return 0
	}
	i, tau, past := p.stageAt(t)
	if past {
		return p.stages[i].To
	}
	return p.stages[i].From + p.slope(i)*tau
}

func fmtRate(r float64) string {
	if r == math.Trunc(r) {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%g", r)
}
