package bench

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

func mustPacer(t *testing.T, p *Piecewise, err error) *Piecewise {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPacerDue(t *testing.T) {
	constant := func(r float64) func(*testing.T) *Piecewise {
		return func(t *testing.T) *Piecewise { p, err := Constant(r); return mustPacer(t, p, err) }
	}
	ramp := func(t *testing.T) *Piecewise { p, err := Ramp(0, 100, 10*time.Second); return mustPacer(t, p, err) }
	steps := func(t *testing.T) *Piecewise { p, err := Steps(100, 100, time.Second, 3); return mustPacer(t, p, err) }
	pause := func(t *testing.T) *Piecewise {
		p, err := NewPiecewise([]Stage{{From: 10, To: 10, Duration: time.Second}, {Duration: time.Second}, {From: 20, To: 20}})
		return mustPacer(t, p, err)
	}
	stop := func(t *testing.T) *Piecewise {
		p, err := NewPiecewise([]Stage{{From: 10, To: 10, Duration: time.Second}, {}})
		return mustPacer(t, p, err)
	}
	tests := []struct {
		name   string
		pacer  func(*testing.T) *Piecewise
		n      uint64
		want   time.Duration
		wantOK bool
	}{
		{"constant first at zero", constant(1000), 0, 0, true},
		{"constant second", constant(1000), 1, time.Millisecond, true},
		{"constant one second", constant(1000), 1000, time.Second, true},
		{"constant fractional rate", constant(0.5), 3, 6 * time.Second, true},
		{"constant high rate", constant(50000), 50000, time.Second, true},
		{"ramp quadratic start", ramp, 5, time.Second, true},    // cum = 5t²
		{"ramp end", ramp, 500, 10 * time.Second, true},         // 5·10²
		{"ramp then hold", ramp, 600, 11 * time.Second, true},   // 500 + 100/s
		{"steps first boundary", steps, 100, time.Second, true}, // 100/s for 1 s
		{"steps middle of second", steps, 200, 1500 * time.Millisecond, true},
		{"steps last holds", steps, 900, 4 * time.Second, true},                 // 600 by 3 s, then 300/s
		{"boundary belongs to the earlier stage", pause, 10, time.Second, true}, // cum reaches 10 at 1 s
		{"zero-rate stage skipped", pause, 11, 2*time.Second + 50*time.Millisecond, true},
		{"after the pause", pause, 30, 3 * time.Second, true},
		{"last request of a stopping schedule", stop, 10, time.Second, true},
		{"schedule that stops", stop, 11, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pacer(t)
			got, ok := p.Due(tc.n)
			if ok != tc.wantOK {
				t.Fatalf("Due(%d) ok = %v, want %v", tc.n, ok, tc.wantOK)
			}
			if ok && absDur(got-tc.want) > time.Microsecond {
				t.Fatalf("Due(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestPacerHitsAgreesWithDue(t *testing.T) {
	mk := []struct {
		name string
		mk   func() (*Piecewise, error)
	}{
		{"constant", func() (*Piecewise, error) { return Constant(777) }},
		{"ramp up", func() (*Piecewise, error) { return Ramp(10, 5000, 3*time.Second) }},
		{"ramp down", func() (*Piecewise, error) { return Ramp(5000, 10, 3*time.Second) }},
		{"steps", func() (*Piecewise, error) { return Steps(1000, 500, 700*time.Millisecond, 5) }},
	}
	for _, tc := range mk {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.mk()
			if err != nil {
				t.Fatal(err)
			}
			var prev time.Duration
			for n := uint64(0); n < 20000; n += 7 {
				d, ok := p.Due(n)
				if !ok {
					t.Fatalf("Due(%d) not ok", n)
				}
				if d < prev {
					t.Fatalf("Due(%d) = %v goes back from %v", n, d, prev)
				}
				prev = d
				if h := p.Hits(d); h < n+1 {
					t.Fatalf("Hits(Due(%d)=%v) = %d, want ≥ %d", n, d, h, n+1)
				}
				if d > 0 {
					if h := p.Hits(d - time.Microsecond); h > n+1 {
						t.Fatalf("Hits(Due(%d)-1µs) = %d, want ≤ %d", n, h, n+1)
					}
				}
			}
		})
	}
}

func TestPacerRate(t *testing.T) {
	r, _ := Ramp(100, 300, 2*time.Second)
	s, _ := Steps(100, 50, time.Second, 3)
	tests := []struct {
		name string
		p    Pacer
		at   time.Duration
		want float64
	}{
		{"ramp start", r, 0, 100},
		{"ramp middle", r, time.Second, 200},
		{"ramp held", r, time.Minute, 300},
		{"step one", s, 500 * time.Millisecond, 100},
		{"step two", s, 1500 * time.Millisecond, 150},
		{"step three holds", s, time.Hour, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Rate(tc.at); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("Rate(%v) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestPacerBadInput(t *testing.T) {
	tests := []struct {
		name string
		mk   func() (*Piecewise, error)
	}{
		{"zero rate", func() (*Piecewise, error) { return Constant(0) }},
		{"negative rate", func() (*Piecewise, error) { return Constant(-5) }},
		{"NaN rate", func() (*Piecewise, error) { return Constant(math.NaN()) }},
		{"infinite rate", func() (*Piecewise, error) { return Constant(math.Inf(1)) }},
		{"ramp without duration", func() (*Piecewise, error) { return Ramp(1, 2, 0) }},
		{"steps without interval", func() (*Piecewise, error) { return Steps(1, 1, 0, 3) }},
		{"no steps", func() (*Piecewise, error) { return Steps(1, 1, time.Second, 0) }},
		{"no stages", func() (*Piecewise, error) { return NewPiecewise(nil) }},
		{"untimed middle stage", func() (*Piecewise, error) {
			return NewPiecewise([]Stage{{From: 1, To: 1}, {From: 2, To: 2}})
		}},
		{"open-ended ramp", func() (*Piecewise, error) { return NewPiecewise([]Stage{{From: 1, To: 2}}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := tc.mk(); err == nil {
				t.Fatalf("got pacer %v, want an error", p)
			}
		})
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestSchedule: a schedule with a warm-up is its flat warm-up stage, then
// the ramp or the steps; without one it is the plain ramp or steps; two
// shapes at once are refused.
func TestSchedule(t *testing.T) {
	w, span := 500*time.Millisecond, 2*time.Second
	for _, tc := range []struct {
		name string
		s    Schedule
		want []Stage
	}{
		{"ramp after warm-up", Schedule{Rate: 100, RampTo: 300, Warmup: w, Span: span},
			[]Stage{{100, 100, w}, {100, 300, span}, {300, 300, 0}}},
		{"ramp", Schedule{Rate: 100, RampTo: 300, Span: span}, []Stage{{100, 300, span}, {300, 300, 0}}},
		{"steps after warm-up", Schedule{Rate: 100, Step: 50, StepEvery: 700 * time.Millisecond, Warmup: w, Span: span},
			[]Stage{{100, 100, w}, {100, 100, 700 * time.Millisecond}, {150, 150, 700 * time.Millisecond}, {200, 200, 0}}},
		{"constant", Schedule{Rate: 100, Warmup: w, Span: span}, []Stage{{100, 100, 0}}},
	} {
		p, err := tc.s.Pacer()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := p.Stages(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: stages %v, want %v (%s)", tc.name, got, tc.want, p)
		}
	}
	for _, s := range []Schedule{{Rate: 1, RampTo: 2, Step: 1, StepEvery: time.Second, Span: time.Second}, {Rate: 1, Step: 1, Span: time.Second}} {
		if _, err := s.Pacer(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", s, err)
		}
	}
}
