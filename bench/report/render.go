package report

import (
	"bytes"

	"gonum.org/v1/plot"

	"github.com/mcpbench/mcpbench/bench/chart"
)

// render adds base.png and base.svg of p to files.
func render(files map[string][]byte, base string, p *plot.Plot) error {
	for _, format := range []string{"png", "svg"} {
		wt, err := p.WriterTo(chart.Width, chart.Height, format)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if _, err := wt.WriteTo(&b); err != nil {
			return err
		}
		files[base+"."+format] = b.Bytes()
	}
	return nil
}
