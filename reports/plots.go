package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"sort"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The report's plots, drawn with gonum/plot into SVG and inlined into report.html. Each figure
// is a pure function of the Run: no randomness, fixed sizes and fonts, so the SVG text is
// byte-identical between renders.

const (
	figureWidth  = 10 * vg.Inch
	figureHeight = 3.4 * vg.Inch
	// rightAxisWidth is the margin the pods figure keeps for its load (req/s) axis.
	rightAxisWidth = 46
	legendRow      = 15
)

// Colors: revisions take the Tableau 10 palette in name order; the rest are fixed roles.
var (
	revisionPalette = []color.Color{
		rgb(0x4e79a7), rgb(0xf28e2b), rgb(0x59a14f), rgb(0xe15759), rgb(0x76b7b2),
		rgb(0xedc948), rgb(0xb07aa1), rgb(0xff9da7), rgb(0x9c755f), rgb(0xbab0ac),
	}
	inkColor     = rgb(0x333333)
	gridColor    = rgb(0xe6e6e6)
	loadColor    = color.NRGBA{R: 0x8a, G: 0x94, B: 0xa6, A: 0x30}
	loadEdge     = rgb(0x8a94a6)
	actionColor  = rgb(0x9467bd)
	serveColor   = rgb(0x59a14f)
	proxyColor   = rgb(0xf28e2b)
	panicColor   = rgb(0xd62728)
	otherColor   = rgb(0xbab0ac)
	p50Color     = rgb(0x4e79a7)
	p95Color     = rgb(0xf28e2b)
	p99Color     = rgb(0xe15759)
	coldColor    = rgb(0x7b3294)
	sansFont     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	dashedLine   = []vg.Length{vg.Points(5), vg.Points(3)}
	svgOpenTagRe = regexp.MustCompile(`(?s)<svg\b.*?viewBox="([^"]*)".*?>`)
)

func rgb(v uint32) color.Color {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// figures are the report's plots in page order.
type figures struct {
	Pods, Latency, ColdStarts, Share, SKS template.HTML
}

// plotFigures renders every figure; a figure without data is left empty and the page says so.
func plotFigures(r *Run, st *Stats, secs []second) (figures, error) {
	revs := revisionNames(st)
	colors := map[string]color.Color{}
	for i, name := range revs {
		colors[name] = revisionPalette[i%len(revisionPalette)]
	}
	span := timeSpan(r, secs)
	var f figures
	var err error
	steps := []struct {
		out  *template.HTML
		draw func() (template.HTML, error)
	}{
		{&f.Pods, func() (template.HTML, error) { return podsFigure(r, secs, revs, colors, span) }},
		{&f.Latency, func() (template.HTML, error) { return latencyFigure(r, secs, span) }},
		{&f.ColdStarts, func() (template.HTML, error) { return coldStartFigure(r) }},
		{&f.Share, func() (template.HTML, error) { return shareFigure(secs, revs, colors, span) }},
		{&f.SKS, func() (template.HTML, error) { return sksFigure(r, span) }},
	}
	for _, s := range steps {
		if *s.out, err = s.draw(); err != nil {
			return figures{}, err
		}
	}
	return f, nil
}

// revisionNames are the run's revisions in name order.
func revisionNames(st *Stats) []string {
	out := make([]string, len(st.Revisions))
	for i, rs := range st.Revisions {
		out[i] = rs.Revision
	}
	return out
}

// timeSpan is the x range of every time plot, in seconds: the run's duration, stretched to
// cover every sample and request second, so the plots line up.
func timeSpan(r *Run, secs []second) float64 {
	span := r.Duration.Seconds()
	for _, s := range r.Series {
		span = max(span, s.Time.Seconds())
	}
	span = max(span, float64(len(secs)))
	return max(span, 1)
}

// newPlot is a plot with the report's look: sans-serif text, light grid, time on x.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, sty := range []*draw.TextStyle{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.Legend.TextStyle} {
		sty.Font = font.From(sansFont, 10)
		sty.Color = inkColor
	}
	for _, sty := range []*draw.TextStyle{&p.X.Tick.Label, &p.Y.Tick.Label} {
		sty.Font = font.From(sansFont, 9)
		sty.Color = inkColor
	}
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Color = inkColor
		ax.Tick.Color = inkColor
		ax.Padding = vg.Points(2)
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = timeTicks, defaultTicks
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = gridColor, gridColor
	grid.Vertical.Dashes, grid.Horizontal.Dashes = nil, nil
	p.Add(grid)
	return p
}

// legendEntry is one item of the legend row drawn above a plot.
type legendEntry struct {
	label string
	thumb plot.Thumbnailer
}

// svgFigure draws p with its legend in a row above it (wrapping as needed) and rightMargin
// kept free on the right, and returns the SVG ready to inline in HTML: no XML prolog, no fixed
// size (it scales with the page), no namespace URLs (HTML's parser supplies SVG's namespace).
func svgFigure(title string, p *plot.Plot, legend []legendEntry, rightMargin, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Path())

	sty := p.Legend.TextStyle
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	const thumbW, gap, left = 18, 14, 6
	rows, x := 0, vg.Length(left)
	type placed struct {
		e    legendEntry
		x    vg.Length
		rowN int
	}
	var items []placed
	for _, e := range legend {
		width := thumbW + 4 + sty.Width(e.label)
		if x+width > w-left && x > left {
			rows++
			x = left
		}
		items = append(items, placed{e, x, rows})
		x += width + gap
	}
	top := vg.Length(0)
	if len(items) > 0 {
		top = vg.Length(rows+1)*legendRow + 4
	}
	for _, it := range items {
		cy := h - 2 - vg.Length(it.rowN)*legendRow - legendRow/2
		thumb := draw.Crop(dc, it.x, it.x+thumbW-w, cy-5, cy+5-h)
		it.e.thumb.Thumbnail(&thumb)
		dc.FillText(sty, vg.Point{X: it.x + thumbW + 4, Y: cy}, it.e.label)
	}

	p.Draw(draw.Crop(dc, 0, -rightMargin, 0, -top))

	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render %s plot: %w", title, err)
	}
	out := buf.Bytes()
	loc := svgOpenTagRe.FindSubmatchIndex(out)
	if loc == nil {
		return "", fmt.Errorf("render %s plot: no <svg> element in gonum/plot's output", title)
	}
	open := fmt.Sprintf(`<svg viewBox="%s" role="img" aria-label="%s">`, out[loc[2]:loc[3]], template.HTMLEscapeString(title))
	return template.HTML(open + string(bytes.TrimSpace(out[loc[1]:]))), nil //nolint:gosec // SVG from gonum/plot, which escapes its text
}

// podsFigure: desired (dashed) and ready (solid) pods per revision over time, the load sent
// per second as a grey area on a right-hand axis, and actions as vertical lines.
func podsFigure(r *Run, secs []second, revs []string, colors map[string]color.Color, span float64) (template.HTML, error) {
	if len(r.Series) == 0 {
		return "", nil
	}
	p := newPlot("time (s)", "pods")
	var legend []legendEntry
	if len(secs) > 0 {
		load := &loadOverlay{}
		for _, s := range secs {
			load.points = append(load.points, plotter.XY{X: s.Start.Seconds(), Y: float64(s.Sent)})
		}
		p.Add(load)
		legend = append(legend, legendEntry{"load sent (req/s, right axis)", load})
	}
	if actions := eventsOfKind(r.Events, "action"); len(actions) > 0 {
		marks := &timeMarks{style: draw.LineStyle{Color: actionColor, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
		for _, e := range actions {
			marks.at = append(marks.at, e.Time.Seconds())
		}
		p.Add(marks)
		legend = append(legend, legendEntry{"action", marks})
	}
	byRev := seriesByRevision(r.Series)
	maxPods := 1.0
	for _, name := range revs {
		series := byRev[name]
		if len(series) == 0 {
			continue
		}
		var desired, ready plotter.XYs
		for _, s := range series {
			if s.DesiredPods >= 0 {
				desired = append(desired, plotter.XY{X: s.Time.Seconds(), Y: float64(s.DesiredPods)})
				maxPods = max(maxPods, float64(s.DesiredPods))
			}
			ready = append(ready, plotter.XY{X: s.Time.Seconds(), Y: float64(s.ReadyPods)})
			maxPods = max(maxPods, float64(s.ReadyPods))
		}
		for _, line := range []struct {
			xys    plotter.XYs
			dashes []vg.Length
			width  float64
		}{{desired, dashedLine, 1.5}, {ready, nil, 2}} {
			if len(line.xys) == 0 {
				continue
			}
			l, err := plotter.NewLine(line.xys)
			if err != nil {
				return "", fmt.Errorf("pods plot: %w", err)
			}
			l.StepStyle = plotter.PostStep
			l.Color, l.Width, l.Dashes = colors[name], vg.Points(line.width), line.dashes
			p.Add(l)
		}
		legend = append(legend, legendEntry{name, swatch(colors[name])})
	}
	legend = append(legend,
		legendEntry{"ready", lineThumb(draw.LineStyle{Color: inkColor, Width: vg.Points(2)})},
		legendEntry{"desired", lineThumb(draw.LineStyle{Color: inkColor, Width: vg.Points(1.5), Dashes: dashedLine})})
	p.X.Min, p.X.Max = 0, span
	p.Y.Min, p.Y.Max = 0, maxPods*1.08
	p.Y.Tick.Marker = countTicks
	return svgFigure("Pods desired and ready per revision, with load", p, legend, rightAxisWidth, figureWidth, figureHeight)
}

// latencyFigure: p50, p95 and p99 latency of the requests sent in each second, with every
// cold-start request as a dot; on a log scale when the latencies span more than 50×.
func latencyFigure(r *Run, secs []second, span float64) (template.HTML, error) {
	if len(secs) == 0 {
		return "", nil
	}
	const floorMs = 0.001 // a log axis needs positive values
	ms := func(d time.Duration) float64 { return max(floorMs, float64(d)/float64(time.Millisecond)) }
	lines := []struct {
		name  string
		color color.Color
		pick  func(second) time.Duration
		xys   plotter.XYs
	}{
		{name: "p50", color: p50Color, pick: func(s second) time.Duration { return s.P50 }},
		{name: "p95", color: p95Color, pick: func(s second) time.Duration { return s.P95 }},
		{name: "p99", color: p99Color, pick: func(s second) time.Duration { return s.P99 }},
	}
	lo, hi := math.Inf(1), 0.0
	for i := range lines {
		for _, s := range secs {
			if s.Sent > 0 {
				v := ms(lines[i].pick(s))
				lo, hi = min(lo, v), max(hi, v)
				lines[i].xys = append(lines[i].xys, plotter.XY{X: s.Start.Seconds() + 0.5, Y: v})
			}
		}
	}
	var cold plotter.XYs
	zero := timeZero(r)
	for i := range r.Requests {
		if q := &r.Requests[i]; q.ColdStart {
			v := ms(q.Result.Latency)
			lo, hi = min(lo, v), max(hi, v)
			cold = append(cold, plotter.XY{X: max(0, q.Result.Timestamp.Sub(zero).Seconds()), Y: v})
		}
	}

	p := newPlot("time sent (s)", "latency (ms)")
	p.X.Min, p.X.Max = 0, span
	// A log scale is drawn as log10 values on a linear axis with decade ticks: gonum's own log
	// scale centres the axis label on the linear midpoint, which pushes the plot down.
	logScale := hi/lo > 50
	scale := func(xys plotter.XYs) {
		for i := range xys {
			if logScale {
				xys[i].Y = math.Log10(xys[i].Y)
			}
		}
	}
	if logScale {
		p.Y.Label.Text = "latency (ms, log scale)"
		p.Y.Tick.Marker = decadeTicks{}
	} else {
		p.Y.Min = 0
	}
	var legend []legendEntry
	for _, ln := range lines {
		scale(ln.xys)
		l, err := plotter.NewLine(ln.xys)
		if err != nil {
			return "", fmt.Errorf("latency plot: %w", err)
		}
		l.Color, l.Width = ln.color, vg.Points(1.5)
		p.Add(l)
		legend = append(legend, legendEntry{ln.name, l})
	}
	if len(cold) > 0 {
		scale(cold)
		sc, err := plotter.NewScatter(cold)
		if err != nil {
			return "", fmt.Errorf("latency plot: %w", err)
		}
		sc.Color, sc.Radius, sc.Shape = coldColor, vg.Points(2.2), draw.CircleGlyph{}
		p.Add(sc)
		legend = append(legend, legendEntry{"cold-start request", sc})
	}
	return svgFigure("Latency percentiles per second", p, legend, 0, figureWidth, figureHeight)
}

// decadeTicks label an axis of log10 values with the values themselves: a labelled tick at
// every power of ten (0.1, 1, 10, 100, ...) and minor ticks at 2..9 times it.
type decadeTicks struct{}

func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for k := math.Floor(lo); k <= math.Ceil(hi); k++ {
		for m := 1.0; m < 10; m++ {
			v := k + math.Log10(m)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = strconv.FormatFloat(math.Pow(10, k), 'f', max(0, int(-k)), 64)
			}
			out = append(out, t)
		}
	}
	return out
}

// coldStartFigure: histogram of cold-start request latencies.
func coldStartFigure(r *Run) (template.HTML, error) {
	var vals plotter.Values
	for i := range r.Requests {
		if q := &r.Requests[i]; q.ColdStart {
			vals = append(vals, float64(q.Result.Latency)/float64(time.Millisecond))
		}
	}
	if len(vals) == 0 {
		return "", nil
	}
	bins := min(30, max(5, int(math.Ceil(math.Sqrt(float64(len(vals)))))))
	h, err := plotter.NewHist(vals, bins)
	if err != nil {
		return "", fmt.Errorf("cold-start plot: %w", err)
	}
	h.FillColor, h.Color, h.LineStyle.Width = coldColor, color.White, vg.Points(0.5) // h.Width is the bin width
	p := newPlot("cold-start latency (ms)", "requests")
	p.X.Tick.Marker = niceTicks{n: 8}
	p.Add(h)
	p.Y.Min = 0
	p.Y.Tick.Marker = countTicks
	return svgFigure("Cold-start latency histogram", p, nil, 0, figureWidth, figureHeight*0.85)
}

// shareFigure: the share of each revision among the requests sent in each second.
func shareFigure(secs []second, revs []string, colors map[string]color.Color, span float64) (template.HTML, error) {
	p := newPlot("time sent (s)", "share of requests (%)")
	var legend []legendEntry
	for _, name := range revs {
		var xys plotter.XYs
		served := false
		for _, s := range secs {
			n := s.PerRevision[name]
			served = served || n > 0
			if s.Attributed == 0 || !served { // the line starts where the revision first serves
				continue
			}
			xys = append(xys, plotter.XY{X: s.Start.Seconds(), Y: 100 * float64(n) / float64(s.Attributed)})
		}
		if !served {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return "", fmt.Errorf("traffic share plot: %w", err)
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width = colors[name], vg.Points(1.8)
		p.Add(l)
		legend = append(legend, legendEntry{name, l})
	}
	if len(legend) == 0 {
		return "", nil
	}
	p.X.Min, p.X.Max = 0, span
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	return svgFigure("Traffic share per revision", p, legend, 0, figureWidth, figureHeight*0.85)
}

// sksFigure: one row per revision with its SKS mode over time (Serve green, Proxy orange) and
// a red stripe while the KPA panics.
func sksFigure(r *Run, span float64) (template.HTML, error) {
	if len(r.Series) == 0 {
		return "", nil
	}
	byRev := seriesByRevision(r.Series)
	names := make([]string, 0, len(byRev))
	for name := range byRev {
		names = append(names, name)
	}
	sort.Strings(names)
	tl := &modeTimeline{rows: len(names)}
	ticks := plot.ConstantTicks{}
	for row, name := range names {
		y := float64(len(names) - 1 - row) // first revision on top
		ticks = append(ticks, plot.Tick{Value: y, Label: name})
		series := byRev[name]
		for i, s := range series {
			end := s.Time.Seconds() + 1 // a lone sample covers its second
			switch {
			case i+1 < len(series):
				end = series[i+1].Time.Seconds()
			case i > 0:
				end = s.Time.Seconds() + (s.Time - series[i-1].Time).Seconds()
			}
			tl.spans = appendSpan(tl.spans, modeSpan{y: y, from: s.Time.Seconds(), to: end, color: modeColor(s.Mode)})
			if s.Panicking {
				tl.panics = appendSpan(tl.panics, modeSpan{y: y, from: s.Time.Seconds(), to: end, color: panicColor})
			}
		}
	}
	p := newPlot("time (s)", "")
	p.Add(tl)
	p.X.Min, p.X.Max = 0, span
	p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5
	p.Y.Tick.Marker = ticks
	p.Y.Tick.Length = 0
	legend := []legendEntry{{"Serve", swatch(serveColor)}, {"Proxy (activator in path)", swatch(proxyColor)}, {"panic mode", swatch(panicColor)}}
	if hasOtherMode(r.Series) {
		legend = append(legend, legendEntry{"unknown", swatch(otherColor)})
	}
	h := vg.Length(60 + 26*len(names))
	return svgFigure("SKS mode per revision", p, legend, 0, figureWidth, h)
}

func modeColor(mode string) color.Color {
	switch mode {
	case "Serve":
		return serveColor
	case "Proxy":
		return proxyColor
	}
	return otherColor
}

func hasOtherMode(samples []Sample) bool {
	for _, s := range samples {
		if s.Mode != "Serve" && s.Mode != "Proxy" {
			return true
		}
	}
	return false
}

// niceTicks puts about n major ticks at multiples of 1, 2 or 5 × 10^k (at least minStep
// apart), labelled with just the decimals the step needs, and a minor tick between majors.
type niceTicks struct {
	n       int
	minStep float64
}

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / float64(max(t.n, 2))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = max(step, t.minStep)
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var out []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k*step + 0 // + 0 turns -0 into 0
		label := strconv.FormatFloat(v, 'f', prec, 64)
		out = append(out, plot.Tick{Value: v, Label: label})
		if minor := v + step/2; minor < hi {
			out = append(out, plot.Tick{Value: minor})
		}
	}
	return out
}

var (
	timeTicks    = niceTicks{n: 12}
	countTicks   = niceTicks{n: 5, minStep: 1}
	defaultTicks = niceTicks{n: 6}
)

// loadOverlay draws requests sent per second as a filled step area scaled onto the plot's
// y range, with its own axis in the right margin (gonum/plot has no secondary axis).
type loadOverlay struct {
	points plotter.XYs
}

func (l *loadOverlay) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, pt := range l.points {
		xmin, xmax = min(xmin, pt.X), max(xmax, pt.X+1)
	}
	return xmin, xmax, 0, 0 // the y range is the pods': the overlay scales itself onto it
}

func (l *loadOverlay) Plot(c draw.Canvas, p *plot.Plot) {
	peak := 0.0
	for _, pt := range l.points {
		peak = max(peak, pt.Y)
	}
	if peak == 0 {
		return
	}
	ticks := niceTicks{n: 4}.Ticks(0, peak)
	top := peak * 1.08
	for _, t := range ticks {
		top = max(top, t.Value)
	}
	trX, _ := p.Transforms(&c)
	y := func(v float64) vg.Length { return c.Min.Y + vg.Length(v/top)*(c.Max.Y-c.Min.Y) }

	area := []vg.Point{{X: trX(l.points[0].X), Y: c.Min.Y}}
	for i, pt := range l.points {
		next := pt.X + 1
		if i+1 < len(l.points) {
			next = l.points[i+1].X
		}
		area = append(area, vg.Point{X: trX(pt.X), Y: y(pt.Y)}, vg.Point{X: trX(next), Y: y(pt.Y)})
	}
	area = append(area, vg.Point{X: area[len(area)-1].X, Y: c.Min.Y})
	c.FillPolygon(loadColor, c.ClipPolygonXY(area))
	c.StrokeLines(draw.LineStyle{Color: loadEdge, Width: vg.Points(0.6)}, c.ClipLinesXY(area[1:len(area)-1])...)

	// The right axis: a line, major ticks with labels, and a rotated title.
	axis := draw.LineStyle{Color: inkColor, Width: p.Y.Width}
	c.StrokeLine2(axis, c.Max.X, c.Min.Y, c.Max.X, c.Max.Y)
	label := p.Y.Tick.Label
	label.XAlign, label.YAlign = draw.XLeft, draw.YCenter
	maxW := vg.Length(0)
	for _, t := range ticks {
		if t.IsMinor() || t.Value > top {
			continue
		}
		ty := y(t.Value)
		c.StrokeLine2(axis, c.Max.X, ty, c.Max.X+p.Y.Tick.Length, ty)
		c.FillText(label, vg.Point{X: c.Max.X + p.Y.Tick.Length + 2, Y: ty}, t.Label)
		maxW = max(maxW, label.Width(t.Label))
	}
	title := p.Y.Label.TextStyle
	title.Rotation, title.XAlign, title.YAlign = math.Pi/2, draw.XCenter, draw.YCenter
	x := c.Max.X + p.Y.Tick.Length + 6 + maxW + title.Font.Size/2
	c.FillText(title, vg.Point{X: x, Y: (c.Min.Y + c.Max.Y) / 2}, "req/s")
}

func (l *loadOverlay) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(loadColor, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// timeMarks draws vertical lines at the given times (actions).
type timeMarks struct {
	at    []float64
	style draw.LineStyle
}

func (m *timeMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, t := range m.at {
		x := trX(t)
		if x >= c.Min.X && x <= c.Max.X {
			c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
		}
	}
}

func (m *timeMarks) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
}

// modeSpan is one stretch of a timeline row in one color.
type modeSpan struct {
	y, from, to float64
	color       color.Color
}

// appendSpan appends s, extending the last span instead when s continues it in the same
// color (one bar per stretch, no seams between seconds).
func appendSpan(spans []modeSpan, s modeSpan) []modeSpan {
	if n := len(spans); n > 0 {
		last := &spans[n-1]
		if last.y == s.y && last.to == s.from && last.color == s.color {
			last.to = s.to
			return spans
		}
	}
	return append(spans, s)
}

// modeTimeline draws SKS mode spans as bars, one row per revision, with panic stripes.
type modeTimeline struct {
	rows          int
	spans, panics []modeSpan
}

func (t *modeTimeline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	bar := func(s modeSpan, lo, hi float64) {
		pts := []vg.Point{{X: trX(s.from), Y: trY(s.y + lo)}, {X: trX(s.to), Y: trY(s.y + lo)}, {X: trX(s.to), Y: trY(s.y + hi)}, {X: trX(s.from), Y: trY(s.y + hi)}}
		c.FillPolygon(s.color, c.ClipPolygonXY(pts))
	}
	for _, s := range t.spans {
		bar(s, -0.32, 0.32)
	}
	for _, s := range t.panics {
		bar(s, -0.32, -0.18)
	}
}

// swatchThumb is a legend thumbnail filled with one color.
type swatchThumb struct{ color color.Color }

func swatch(c color.Color) swatchThumb { return swatchThumb{c} }

func (s swatchThumb) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, []vg.Point{{X: c.Min.X, Y: c.Min.Y + 1}, {X: c.Max.X, Y: c.Min.Y + 1}, {X: c.Max.X, Y: c.Max.Y - 1}, {X: c.Min.X, Y: c.Max.Y - 1}})
}

// lineThumb is a legend thumbnail showing a line style.
type lineThumb draw.LineStyle

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle(l), c.Min.X, y, c.Max.X, y)
}
