package main

import (
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartColors are the bars' colours: zerossh, x/crypto/ssh, OpenSSH, and
// the raw cipher.
var chartColors = map[string]color.Color{
	zerossh: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	xcrypto: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	openssh: color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"raw":   color.RGBA{R: 0xb0, G: 0xb0, B: 0xb0, A: 0xff},
}

// drawChart draws the transfer rows as grouped bars, one group per cipher,
// one bar per implementation and one for the raw cipher's seal, to path
// (.png or .svg).
func (rep *report) drawChart(path string) error {
	if len(rep.transferRows) == 0 {
		return fmt.Errorf("no transfer results to draw")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Transfer, client to server, 32 KiB channel writes (median of %d runs)", rep.rounds)
	p.Title.Padding = vg.Points(6)
	p.Y.Label.Text = "MB/s"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = false
	p.Y.Tick.Marker = plot.DefaultTicks{}

	var names []string
	for _, r := range rep.transferRows {
		c := strings.ReplaceAll(strings.TrimPrefix(r.group, "Transfer/"), "@openssh.com", "")
		names = append(names, strings.ReplaceAll(c, "+", " + "))
	}
	top := 0.0
	for _, r := range rep.transferRows {
		top = max(top, r.ceiling)
		for _, v := range r.med {
			top = max(top, v)
		}
	}
	p.Y.Max = top * 1.25 // room for the legend
	series := append(append([]string{}, rep.impls...), "raw")
	const width = 20
	for i, s := range series {
		vals := make(plotter.Values, len(rep.transferRows))
		for j, r := range rep.transferRows {
			if s == "raw" {
				vals[j] = r.ceiling
			} else {
				vals[j] = r.med[s]
			}
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(width))
		if err != nil {
			return err
		}
		bars.Color = chartColors[s]
		bars.LineStyle.Width = 0
		bars.Offset = vg.Points(width * (float64(i) - float64(len(series)-1)/2))
		p.Add(bars)
		var xys plotter.XYLabels
		for j, v := range vals {
			xys.XYs = append(xys.XYs, plotter.XY{X: float64(j), Y: v})
			xys.Labels = append(xys.Labels, fmt.Sprintf("%.0f", v))
		}
		labels, err := plotter.NewLabels(xys)
		if err != nil {
			return err
		}
		for k := range labels.TextStyle {
			labels.TextStyle[k].XAlign = draw.XCenter
			labels.TextStyle[k].Font.Size = vg.Points(8)
		}
		labels.Offset = vg.Point{X: bars.Offset, Y: vg.Points(2)}
		p.Add(labels)
		name := implTitle[s]
		if s == "raw" {
			name = "raw cipher seal, one core"
		}
		p.Legend.Add(name, bars)
	}
	p.NominalX(names...)
	p.Add(plotter.NewGrid())
	return p.Save(10*vg.Inch, 5*vg.Inch, path)
}
