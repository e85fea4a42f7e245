package bench

import (
	"math"
	"testing"
)

func TestPairedDelta(t *testing.T) {
	for _, tc := range []struct {
		name            string
		a, b            []float64
		mean, low, high float64
	}{
		{"constant difference", []float64{12, 13, 14}, []float64{10, 11, 12}, 2, 2, 2},
		// diffs 1, 3: mean 2, sd √2, se 1, t(1) = 12.706
		{"two rounds", []float64{11, 13}, []float64{10, 10}, 2, 2 - 12.706, 2 + 12.706},
		// diffs 1..5: mean 3, sd √2.5, se √0.5, t(4) = 2.776
		{"five rounds", []float64{1, 2, 3, 4, 5}, []float64{0, 0, 0, 0, 0}, 3, 3 - 2.776*math.Sqrt(0.5), 3 + 2.776*math.Sqrt(0.5)},
		{"one round", []float64{5}, []float64{2}, 3, 3, 3},
		{"unequal lengths use the pairs", []float64{5, 6, 100}, []float64{4, 5}, 1, 1, 1},
	} {
		d := PairedDelta(tc.a, tc.b)
		if math.Abs(d.Mean-tc.mean) > 1e-9 || math.Abs(d.Low-tc.low) > 1e-3 || math.Abs(d.High-tc.high) > 1e-3 {
			t.Errorf("%s: %+v; want %v [%v, %v]", tc.name, d, tc.mean, tc.low, tc.high)
		}
	}
	if (PairedDelta(nil, nil) != Delta{}) {
		t.Error("empty input")
	}
	if !PairedDelta([]float64{3, 4, 5}, []float64{1, 1, 1}).Significant() || PairedDelta([]float64{1, -1, 2, -2}, []float64{0, 0, 0, 0}).Significant() {
		t.Error("Significant")
	}
}

func TestTCritical(t *testing.T) {
	// Published two-sided 95% values (NIST/SEMATECH t table). The old
	// hand-written table stepped to 2.021 for 31–40 degrees of freedom.
	for _, c := range []struct {
		df   int
		want float64
	}{{1, 12.706}, {2, 4.303}, {9, 2.262}, {30, 2.042}, {35, 2.030}, {50, 2.009}, {100, 1.984}, {1000, 1.962}} {
		if got := TCritical95(c.df); math.Abs(got-c.want) > 0.0006 {
			t.Errorf("TCritical95(%d) = %.4f, want %.3f", c.df, got, c.want)
		}
	}
	if !math.IsNaN(TCritical95(0)) {
		t.Error("TCritical95(0) is not NaN")
	}
	for df := 2; df < 200; df++ {
		if TCritical95(df) > TCritical95(df-1) {
			t.Errorf("t(%d) > t(%d)", df, df-1)
		}
	}
}

func TestMedian(t *testing.T) {
	if median([]float64{1, 2, 3}) != 2 || median([]float64{1, 2, 3, 4}) != 2.5 {
		t.Error("Median")
	}
}

// TestSignedRankCritical checks the exact critical values against the
// published two-sided 5% table (reject when T ≤ value): n=6: 0, 10: 8,
// 20: 52, 30: 137.
func TestSignedRankCritical(t *testing.T) {
	for n, reject := range map[int]int{6: 0, 10: 8, 20: 52, 30: 137} {
		if c := signedRankCritical(n, 0.025); c != reject+1 {
			t.Errorf("n=%d: C=%d, want %d", n, c, reject+1)
		}
	}
}

// TestHodgesLehmann: the estimate is the median of the Walsh averages, the
// interval holds it, and one wild pair moves it little where it drags the
// mean (a segment the machine interrupted).
func TestHodgesLehmann(t *testing.T) {
	base := make([]float64, 20)
	clean := []float64{40, 42, 38, 41, 39, 40, 43, 37, 40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 42, 38}
	d := HodgesLehmann(clean, base)
	if d.Method != "hodges-lehmann" || d.N != 20 || math.Abs(d.Estimate-40) > 0.5 || d.Low > 40 || d.High < 40 || d.HalfWidth() > 2 {
		t.Errorf("clean: %+v", d)
	}
	wild := append([]float64(nil), clean...)
	wild[6] = 400
	w, tt := HodgesLehmann(wild, base), PairedDelta(wild, base)
	if math.Abs(w.Estimate-40) > 1 || w.HalfWidth() > 2.5 {
		t.Errorf("one wild pair moved the estimate to %.1f ± %.1f", w.Estimate, w.HalfWidth())
	}
	if tt.HalfWidth() < 10*w.HalfWidth() || math.Abs(w.Mean-tt.Estimate) > 1e-9 {
		t.Errorf("t interval ±%.1f against ±%.1f; mean %v vs %v", tt.HalfWidth(), w.HalfWidth(), w.Mean, tt.Estimate)
	}
	if s := HodgesLehmann([]float64{1, 2, 3}, []float64{0, 0, 0}); s.Method != "t" {
		t.Errorf("3 pairs: method %q, want the t interval", s.Method)
	}
}
