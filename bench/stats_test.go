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
	if Median([]float64{3, 1, 2}) != 2 || Median([]float64{4, 1, 2, 3}) != 2.5 || !math.IsNaN(Median(nil)) {
		t.Error("Median")
	}
}
