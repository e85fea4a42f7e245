// Package chart draws mcpbench's charts with gonum/plot, as PNG and SVG:
//
//   - Spectrum: the latency percentile spectrum of several variants on a
//     1/(1−p) axis labelled 50%, 90%, 99%, 99.9%…, so tails get room;
//   - Overhead: per-variant added latency against the baseline, bars with
//     95% confidence whiskers;
//   - Saturation: p99 latency against achieved throughput;
//   - OverTime: p99 per second over a run.
//
// Each takes plain series, so that `mcpbench plot DIR` can redraw from
// result files (ParseHGRM reads a .hgrm back).
package chart

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of every chart.
const (
	Width  = 9 * vg.Inch
	Height = 5.5 * vg.Inch
)

// Point is one percentile of a latency distribution.
type Point struct {
	Percentile float64 // 0 to 100
	Value      float64 // nanoseconds
}

// Series is a named line.
type Series struct {
	Name   string
	Points []Point
}

// SpectrumOf samples a histogram's percentile spectrum, densely in the tail.
func SpectrumOf(h *hdr.Histogram) []Point {
	var pts []Point
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	for _, q := range spectrumQuantiles() {
		pts = append(pts, Point{q, float64(h.ValueAtQuantile(q))})
	}
	return pts
}

// spectrumQuantiles are 0–100 percentiles evenly spread on the 1/(1−p)
// log axis, up to 99.999, and the max's 100 is left out (it is infinite
// on this axis).
func spectrumQuantiles() []float64 {
	var qs []float64
	for x := 0.0; x <= 5.0001; x += 0.05 { // x = log10(1/(1−p))
		qs = append(qs, 100*(1-math.Pow(10, -x)))
	}
	return qs
}

// ParseHGRM reads the percentile distribution HdrHistogram writes (as
// mcpbench's .hgrm files, values in µs) into points in nanoseconds.
func ParseHGRM(r io.Reader) ([]Point, error) {
	var pts []Point
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "#") || f[0] == "Value" {
			continue
		}
		v, err1 := strconv.ParseFloat(f[0], 64)
		q, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if q >= 1 {
			continue // the max: off the 1/(1−p) axis
		}
		pts = append(pts, Point{100 * q, v * 1000})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("no percentile lines")
	}
	return pts, nil
}

// palette is colour-blind-safe (Okabe–Ito), then repeats with dashes.
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

func style(i int) draw.LineStyle {
	s := draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.6)}
	if i >= len(palette) {
		s.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return s
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = false
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// unitFor picks µs or ms for values in nanoseconds.
func unitFor(maxNs float64) (string, float64) {
	if maxNs >= 5e6 {
		return "ms", 1e6
	}
	return "µs", 1e3
}

// Spectrum draws percentile spectra: x is 1/(1−p) on a log scale, labelled
// as percentiles; y is latency on a log scale.
func Spectrum(title string, series []Series) (*plot.Plot, error) {
	var maxV, minV = 0.0, math.Inf(1)
	for _, s := range series {
		for _, pt := range s.Points {
			maxV = math.Max(maxV, pt.Value)
			if pt.Value > 0 {
				minV = math.Min(minV, pt.Value)
			}
		}
	}
	if maxV == 0 {
		return nil, fmt.Errorf("spectrum %q: no data", title)
	}
	unit, div := unitFor(maxV)
	p := newPlot(title, "percentile", "response time ("+unit+", log scale)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks{
		{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}, {Value: 10, Label: "90%"}, {Value: 100, Label: "99%"},
		{Value: 1e3, Label: "99.9%"}, {Value: 1e4, Label: "99.99%"}, {Value: 1e5, Label: "99.999%"},
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, s := range series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if pt.Percentile >= 100 || pt.Value <= 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: 1 / (1 - pt.Percentile/100), Y: pt.Value / div})
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = style(i)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	p.X.Min, p.X.Max = 1, 1e5
	p.Y.Min, p.Y.Max = minV/div*0.7, maxV/div*1.5
	p.Legend.Top, p.Legend.Left = true, true // tails rise to the right: the top left is free
	p.Y.Tick.Marker = logTicks{}
	return p, nil
}

// Bar is one variant's added latency against the baseline, with its 95%
// confidence interval, in nanoseconds.
type Bar struct {
	Name            string
	Mean, Low, High float64
}

// Overhead draws horizontal bars of added latency with 95% CI whiskers
// and the figure written at each bar.
func Overhead(title string, bars []Bar) (*plot.Plot, error) {
	if len(bars) == 0 {
		return nil, fmt.Errorf("overhead %q: no bars", title)
	}
	maxV, minV := 0.0, 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, math.Max(b.High, b.Mean))
		minV = math.Min(minV, math.Min(b.Low, b.Mean))
	}
	unit, div := unitFor(math.Max(maxV, -minV))
	p := newPlot(title, "added latency ("+unit+"), whiskers: 95% confidence interval", "")
	n := len(bars)
	vals := make(plotter.Values, n)
	errs := make(errPoints, n)
	names := make([]string, n)
	var labels plotter.XYLabels
	for i, b := range bars {
		y := float64(n - 1 - i) // the first bar on top
		vals[n-1-i] = b.Mean / div
		errs[i] = errPoint{x: b.Mean / div, y: y, low: (b.Mean - b.Low) / div, high: (b.High - b.Mean) / div}
		names[n-1-i] = b.Name
		labels.XYs = append(labels.XYs, plotter.XY{X: math.Max(b.High, b.Mean) / div, Y: y})
		labels.Labels = append(labels.Labels, fmt.Sprintf("  %s ± %s", sig(b.Mean/div), sig((b.High-b.Low)/2/div)))
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(22))
	if err != nil {
		return nil, err
	}
	bc.Horizontal = true
	bc.Color = palette[0]
	bc.LineStyle.Width = 0
	p.Add(bc)
	eb, err := plotter.NewXErrorBars(errs)
	if err != nil {
		return nil, err
	}
	eb.LineStyle.Width = vg.Points(1.4)
	eb.CapWidth = vg.Points(10)
	p.Add(eb)
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].YAlign = draw.YCenter
		lb.TextStyle[i].XAlign = draw.XLeft
	}
	p.Add(lb)
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	p.X.Min = math.Min(0, minV/div*1.1)
	p.X.Max = maxV / div * 1.3 // room for the labels
	return p, nil
}

// sig prints v with three significant digits.
func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

type errPoint struct{ x, y, low, high float64 }
type errPoints []errPoint

func (e errPoints) Len() int                    { return len(e) }
func (e errPoints) XY(i int) (float64, float64) { return e[i].x, e[i].y }
func (e errPoints) XError(i int) (float64, float64) {
	return e[i].low, e[i].high
}

// XYSeries is a named line of (x, y) points, y in nanoseconds.
type XYSeries struct {
	Name string
	X, Y []float64
}

// Saturation draws p99 against achieved throughput, one line per variant.
func Saturation(title string, series []XYSeries) (*plot.Plot, error) {
	return lines(title, "achieved throughput (requests/s)", "p99 response time", series, true)
}

// OverTime draws a latency percentile per second.
func OverTime(title, what string, series []XYSeries) (*plot.Plot, error) {
	return lines(title, "time (s)", what, series, false)
}

func lines(title, xlabel, ylabel string, series []XYSeries, logY bool) (*plot.Plot, error) {
	maxV := 0.0
	for _, s := range series {
		for _, y := range s.Y {
			maxV = math.Max(maxV, y)
		}
	}
	if maxV == 0 {
		return nil, fmt.Errorf("%q: no data", title)
	}
	unit, div := unitFor(maxV)
	p := newPlot(title, xlabel, ylabel+" ("+unit+")")
	p.Legend.Top, p.Legend.Left = true, false
	if logY {
		minV := math.Inf(1)
		for _, s := range series {
			for _, y := range s.Y {
				if y > 0 {
					minV = math.Min(minV, y)
				}
			}
		}
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		// Headroom above the lines for the legend (one row per series).
		p.Y.Min, p.Y.Max = minV/div*0.7, maxV/div*math.Pow(1.5, float64(len(series)+1))
	} else {
		p.Y.Min, p.Y.Max = 0, maxV/div*(1.15+0.08*float64(len(series)))
	}
	for i, s := range series {
		var xys plotter.XYs
		for j := range s.X {
			if j < len(s.Y) && (!logY || s.Y[j] > 0) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j] / div})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = style(i)
		pts.Color = style(i).Color
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	return p, nil
}

// logTicks labels 1, 2 and 5 of every decade, so that a range inside one
// decade still has labels.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Pow(10, math.Floor(math.Log10(min))); d <= max; d *= 10 {
		for _, m := range []float64{1, 2, 3, 4, 5, 6, 7, 8, 9} {
			v := d * m
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
