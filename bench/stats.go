package bench

import (
	"math"
	"sort"
)

// Delta is a paired difference with its 95% confidence interval: the mean
// over rounds of (variant − baseline), each round's pair having run side by
// side, and a Student-t interval over the N rounds.
type Delta struct {
	Mean float64 `json:"mean"`
	Low  float64 `json:"ci95_low"`
	High float64 `json:"ci95_high"`
	N    int     `json:"rounds"`
}

// HalfWidth is the interval's half width (its "±").
func (d Delta) HalfWidth() float64 { return (d.High - d.Low) / 2 }

// Significant says whether the interval excludes zero.
func (d Delta) Significant() bool { return d.N > 1 && (d.Low > 0 || d.High < 0) }

// PairedDelta takes the round-by-round differences a[i] − b[i]. With one
// round the interval is the point itself (nothing to say about spread).
func PairedDelta(a, b []float64) Delta {
	n := min(len(a), len(b))
	if n == 0 {
		return Delta{}
	}
	diffs := make([]float64, n)
	var sum float64
	for i := 0; i < n; i++ {
		diffs[i] = a[i] - b[i]
		sum += diffs[i]
	}
	mean := sum / float64(n)
	if n == 1 {
		return Delta{Mean: mean, Low: mean, High: mean, N: 1}
	}
	var ss float64
	for _, d := range diffs {
		ss += (d - mean) * (d - mean)
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	h := TCritical95(n-1) * se
	return Delta{Mean: mean, Low: mean - h, High: mean + h, N: n}
}

// tTable holds the two-sided 95% Student-t critical values for 1 to 30
// degrees of freedom.
var tTable = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// TCritical95 is the two-sided 95% critical value of Student's t with df
// degrees of freedom (the normal 1.96 beyond 120).
func TCritical95(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(tTable):
		return tTable[df-1]
	case df <= 40:
		return 2.021
	case df <= 60:
		return 2.000
	case df <= 120:
		return 1.980
	}
	return 1.960
}

// Median returns the median of xs (NaN when empty).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
