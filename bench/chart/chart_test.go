package chart

import (
	"bytes"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
)

// hist is a latency distribution: mostly around base ns, with a tail.
func hist(base int64, seed int64) *hdr.Histogram {
	h := hdr.New(1, 3_600_000_000_000, 3)
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < 200_000; i++ {
		v := base + int64(r.ExpFloat64()*float64(base)/5)
		if i%1000 == 0 {
			v *= 10
		}
		h.RecordValue(v)
	}
	return h
}

// checkImages asserts each file exists; PNGs decode at the chart size.
func checkImages(t *testing.T, files []string) {
	t.Helper()
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			want := int(Width.Dots(96))
			if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != want || h != int(Height.Dots(96)) {
				t.Errorf("%s is %dx%d, want %dx%d", f, w, h, want, int(Height.Dots(96)))
			}
		case ".svg":
			if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("<?xml")) || !bytes.Contains(b, []byte("<svg")) {
				t.Errorf("%s is not SVG", f)
			}
		}
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("CHART_DIR"); d != "" { // look at them: CHART_DIR=/tmp/charts go test -run Charts
		dir = d
	}
	series := []Series{
		{"mcp-fast none", SpectrumOf(hist(60_000, 1))},
		{"mcp-fast jwt RS256", SpectrumOf(hist(105_000, 2))},
		{"gateway apikey", SpectrumOf(hist(80_000, 3))},
	}
	p, err := Spectrum("Response time percentiles at 2,000 calls/s", series)
	if err != nil {
		t.Fatal(err)
	}
	files, err := save(p, filepath.Join(dir, "spectrum"))
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)

	p, err = Overhead("Added p50 latency against no auth", []Bar{
		{"jwt RS256", 45_000, 41_000, 49_000}, {"jwt RS256 cached", 1_500, 900, 2_100}, {"introspection", 70_000, 60_000, 80_000},
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err = save(p, filepath.Join(dir, "overhead"))
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)

	p, err = Saturation("Latency against throughput", []XYSeries{
		{"fast", []float64{1000, 5000, 10000, 20000}, []float64{90_000, 100_000, 150_000, 2_000_000}},
		{"sdk", []float64{1000, 5000, 8000}, []float64{200_000, 400_000, 9_000_000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err = save(p, filepath.Join(dir, "saturation"))
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)

	p, err = OverTime("p99 per second", "p99 response time", []XYSeries{{"fast", []float64{1, 2, 3, 4}, []float64{100_000, 120_000, 500_000, 110_000}}})
	if err != nil {
		t.Fatal(err)
	}
	files, err = save(p, filepath.Join(dir, "overtime"))
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, files)

	if _, err := Spectrum("empty", nil); err == nil {
		t.Error("an empty spectrum was drawn")
	}
	if _, err := Overhead("empty", nil); err == nil {
		t.Error("empty bars were drawn")
	}
}

func TestParseHGRM(t *testing.T) {
	h := hist(50_000, 4)
	var b bytes.Buffer
	if _, err := h.PercentilesPrint(&b, 5, 1000); err != nil {
		t.Fatal(err)
	}
	pts, err := ParseHGRM(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) < 50 {
		t.Fatalf("%d points", len(pts))
	}
	// The median read back is the histogram's, in ns.
	for _, pt := range pts {
		if pt.Percentile >= 50 {
			if want := float64(h.ValueAtQuantile(50)); pt.Value < want*0.99 || pt.Value > want*1.01 {
				t.Errorf("p%.3f = %.0f, histogram p50 %.0f", pt.Percentile, pt.Value, want)
			}
			break
		}
	}
	if _, err := ParseHGRM(strings.NewReader("nothing here")); err == nil {
		t.Error("parsed garbage")
	}
}

// save writes p as base.png and base.svg.
func save(p *plot.Plot, base string) ([]string, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		if err := p.Save(Width, Height, base+ext); err != nil {
			return files, err
		}
		files = append(files, base+ext)
	}
	return files, nil
}
