package bench

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
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

// Resolved says whether the interval is narrow enough to be worth its
// figure: a half-width within max(floor, share × |Mean|), e.g. (10µs, 10%).
func (d Delta) Resolved(floor, share float64) bool {
	return d.N > 1 && d.HalfWidth() <= math.Max(floor, share*math.Abs(d.Mean))
}

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

// TCritical95 is the two-sided 95% critical value of Student's t with df
// degrees of freedom: its 0.975 quantile (NaN below one degree).
func TCritical95(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
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
