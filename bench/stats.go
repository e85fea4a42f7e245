package bench

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Delta is a paired difference with its 95% confidence interval, drawn from
// N pairs of (variant − baseline), each pair having run side by side.
type Delta struct {
	// Estimate is the headline difference: Method's estimate.
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"ci95_low"`
	High     float64 `json:"ci95_high"`
	N        int     `json:"pairs"`
	// Method is "hodges-lehmann" (the median of the differences' Walsh
	// averages, with the Wilcoxon signed-rank interval) or "t" (the mean,
	// with a Student-t interval).
	Method string `json:"method"`
	// Mean is the plain mean of the differences, for reference.
	Mean float64 `json:"mean"`
}

// HalfWidth is the interval's half width (its "±").
func (d Delta) HalfWidth() float64 { return (d.High - d.Low) / 2 }

// Resolved says whether the interval is narrow enough to be worth its
// figure: a half-width within max(floor, share × |Estimate|), e.g.
// (10µs, 10%).
func (d Delta) Resolved(floor, share float64) bool {
	return d.N > 1 && d.HalfWidth() <= math.Max(floor, share*math.Abs(d.Estimate))
}

// Significant says whether the interval excludes zero.
func (d Delta) Significant() bool { return d.N > 1 && (d.Low > 0 || d.High < 0) }

// differences returns a[i] − b[i] and their mean.
func differences(a, b []float64) ([]float64, float64) {
	n := min(len(a), len(b))
	diffs := make([]float64, n)
	var sum float64
	for i := range diffs {
		diffs[i] = a[i] - b[i]
		sum += diffs[i]
	}
	if n == 0 {
		return nil, 0
	}
	return diffs, sum / float64(n)
}

// PairedDelta is the mean of the pairwise differences a[i] − b[i] with a
// Student-t interval. With one pair the interval is the point itself.
func PairedDelta(a, b []float64) Delta {
	diffs, mean := differences(a, b)
	n := len(diffs)
	if n == 0 {
		return Delta{}
	}
	d := Delta{Estimate: mean, Low: mean, High: mean, N: n, Method: "t", Mean: mean}
	if n == 1 {
		return d
	}
	var ss float64
	for _, x := range diffs {
		ss += (x - mean) * (x - mean)
	}
	h := TCritical95(n-1) * math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	d.Low, d.High = mean-h, mean+h
	return d
}

// HodgesLehmann is the Hodges–Lehmann estimate of the pairwise
// differences a[i] − b[i]: the median of their n(n+1)/2 Walsh averages
// (dᵢ + dⱼ)/2, i ≤ j. Its 95% interval runs from the C-th smallest Walsh
// average to the C-th largest, C from the exact null distribution of the
// Wilcoxon signed-rank statistic (the largest C with P(T < C) ≤ 2.5%).
// Unlike the mean, one disturbed pair moves it little: a segment the
// machine interrupted does not decide a comparison. With fewer than 6
// pairs no 95% interval exists this way; the t interval is returned.
func HodgesLehmann(a, b []float64) Delta {
	diffs, mean := differences(a, b)
	n := len(diffs)
	if n < 6 {
		return PairedDelta(a, b)
	}
	walsh := make([]float64, 0, n*(n+1)/2)
	for i := range diffs {
		for j := i; j < n; j++ {
			walsh = append(walsh, (diffs[i]+diffs[j])/2)
		}
	}
	sort.Float64s(walsh)
	m := len(walsh)
	c := signedRankCritical(n, 0.025)
	return Delta{Estimate: median(walsh), Low: walsh[c-1], High: walsh[m-c], N: n, Method: "hodges-lehmann", Mean: mean}
}

// signedRankCritical is the largest C ≥ 1 with P(T ≤ C−1) ≤ alpha, T the
// Wilcoxon signed-rank statistic of n pairs under no difference: its
// exact distribution, counted over the 2ⁿ sign patterns.
func signedRankCritical(n int, alpha float64) int {
	m := n * (n + 1) / 2
	ways := make([]float64, m+1) // ways[t]: sign patterns with rank sum t
	ways[0] = 1
	for r := 1; r <= n; r++ {
		for t := m; t >= r; t-- {
			ways[t] += ways[t-r]
		}
	}
	total := math.Pow(2, float64(n))
	c, cum := 1, 0.0
	for t := 0; t <= m; t++ {
		cum += ways[t] / total
		if cum > alpha {
			break
		}
		c = t + 1 // P(T ≤ t) ≤ alpha: the interval may start at rank t+1
	}
	return c
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// TCritical95 is the two-sided 95% critical value of Student's t with df
// degrees of freedom: its 0.975 quantile (NaN below one degree).
func TCritical95(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}
