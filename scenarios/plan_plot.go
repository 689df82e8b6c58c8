package scenarios

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// planPalette is Tableau 10, as the run report's revisions use.
var planPalette = []color.Color{
	color.NRGBA{0x4e, 0x79, 0xa7, 0xff}, color.NRGBA{0xf2, 0x8e, 0x2b, 0xff}, color.NRGBA{0x59, 0xa1, 0x4f, 0xff},
	color.NRGBA{0xe1, 0x57, 0x59, 0xff}, color.NRGBA{0x76, 0xb7, 0xb2, 0xff}, color.NRGBA{0xed, 0xc9, 0x48, 0xff},
	color.NRGBA{0xb0, 0x7a, 0xa1, 0xff}, color.NRGBA{0xff, 0x9d, 0xa7, 0xff}, color.NRGBA{0x9c, 0x75, 0x5f, 0xff},
}

// WritePlanSVG draws the variants as SVG: peak and p95 pods (left) and p95 latency (right)
// against the first swept knob's values, one line per combination of the other knobs.
// The output is a pure function of the rows.
func WritePlanSVG(w io.Writer, rows []PlanRow) error {
	if len(rows) == 0 {
		return fmt.Errorf("plan plot: no variants")
	}
	xName := "variant"
	var xValues []string
	xOf := func(r PlanRow) string { return r.Label() }
	restOf := func(PlanRow) string { return "" }
	if len(rows[0].Settings) > 0 {
		xName = rows[0].Settings[0].Knob
		xOf = func(r PlanRow) string { return r.Settings[0].Value }
		restOf = func(r PlanRow) string { return PlanRow{Settings: r.Settings[1:]}.Label() }
	}
	var series []string
	for _, r := range rows {
		if !slices.Contains(xValues, xOf(r)) {
			xValues = append(xValues, xOf(r))
		}
		if !slices.Contains(series, restOf(r)) {
			series = append(series, restOf(r))
		}
	}

	pods, lat := plot.New(), plot.New()
	pods.Title.Text, pods.X.Label.Text, pods.Y.Label.Text = "pods", xName, "pods"
	lat.Title.Text, lat.X.Label.Text, lat.Y.Label.Text = "p95 latency", xName, "ms"
	for _, p := range []*plot.Plot{pods, lat} {
		p.NominalX(xValues...)
		p.Y.Min = 0
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
	}
	for i, name := range series {
		var peak, p95, p95Lat plotter.XYs
		for _, r := range rows {
			if restOf(r) != name {
				continue
			}
			x := float64(slices.Index(xValues, xOf(r)))
			peak = append(peak, plotter.XY{X: x, Y: float64(r.PeakPods)})
			p95 = append(p95, plotter.XY{X: x, Y: r.P95Pods})
			p95Lat = append(p95Lat, plotter.XY{X: x, Y: float64(r.Latency.P95) / float64(time.Millisecond)})
		}
		c := planPalette[i%len(planPalette)]
		suffix := ""
		if name != "scenario" && name != "" {
			suffix = " (" + name + ")"
		}
		for _, l := range []struct {
			p      *plot.Plot
			xys    plotter.XYs
			label  string
			dashes []vg.Length
		}{
			{pods, peak, "peak" + suffix, nil},
			{pods, p95, "p95" + suffix, []vg.Length{vg.Points(5), vg.Points(3)}},
			{lat, p95Lat, "p95" + suffix, nil},
		} {
			line, points, err := plotter.NewLinePoints(l.xys)
			if err != nil {
				return fmt.Errorf("plan plot: %w", err)
			}
			line.Color, line.Dashes, line.Width = c, l.dashes, vg.Points(1.5)
			points.Color, points.Shape = c, draw.CircleGlyph{}
			l.p.Add(line, points)
			l.p.Legend.Add(strings.TrimSpace(l.label), line, points)
		}
	}
	const width, height = 10 * vg.Inch, 4 * vg.Inch
	canvas := vgsvg.New(width, height)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	dc := draw.New(canvas)
	pods.Draw(tiles.At(dc, 0, 0))
	lat.Draw(tiles.At(dc, 1, 0))
	_, err := canvas.WriteTo(w)
	return err
}
