package nb

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Colours (Okabe–Ito, readable with colour-blindness).
var (
	Black  = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	Orange = color.NRGBA{0xE6, 0x9F, 0x00, 0xff}
	Sky    = color.NRGBA{0x56, 0xB4, 0xE9, 0xff}
	Green  = color.NRGBA{0x00, 0x9E, 0x73, 0xff}
	Blue   = color.NRGBA{0x00, 0x72, 0xB2, 0xff}
	Red    = color.NRGBA{0xD5, 0x5E, 0x00, 0xff}
	Purple = color.NRGBA{0xCC, 0x79, 0xA7, 0xff}
	Gray   = color.NRGBA{0x88, 0x88, 0x88, 0xff}
)

// Alpha returns c with opacity a (0–1).
func Alpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Round(255 * a))
	return c
}

// X converts an instant to the x coordinate used by every time axis (Unix
// seconds).
func X(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// T converts an x coordinate back to an instant.
func T(x float64) time.Time { return time.Unix(0, int64(math.Round(x*1e9))).UTC() }

func init() {
	// Sans-serif text everywhere (the library's default is serif).
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
}

// NumTicks is plot.DefaultTicks with labels in as few decimals as the tick
// spacing needs ("25" rather than "25.00").
type NumTicks struct{}

// Ticks implements plot.Ticker.
func (NumTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	var labelled []float64
	for _, t := range ts {
		if t.Label != "" {
			labelled = append(labelled, t.Value)
		}
	}
	dec := 0
	if len(labelled) > 1 {
		if d := labelled[1] - labelled[0]; d > 0 {
			dec = max(0, int(-math.Floor(math.Log10(d)+1e-9)))
		}
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', dec, 64)
		}
	}
	return ts
}

// NewPlot returns a plot with readable font sizes, a grid and the legend at
// the top left.
func NewPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 15
	p.Title.Padding = vg.Points(6)
	p.Y.Label.Text = ylabel
	p.Y.Label.TextStyle.Font.Size = 12
	p.X.Label.TextStyle.Font.Size = 12
	p.X.Tick.Label.Font.Size = 10
	p.Y.Tick.Label.Font.Size = 10
	p.Legend.TextStyle.Font.Size = 10
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(4), vg.Points(-4)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(2.5)
	p.Y.Tick.Marker = NumTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	return p
}

// TimeAxis sets the x range and local-date ticks of a time axis.
func TimeAxis(p *plot.Plot, from, to time.Time) {
	p.X.Min, p.X.Max = X(from), X(to)
	p.X.Tick.Marker = DayTicks{}
	p.X.Label.Text = "local time (Asia/Shanghai, UTC+8)"
}

// DayTicks labels a time axis (Unix seconds) at local midnights, hours or
// month starts depending on the span.
type DayTicks struct{}

// Ticks implements plot.Ticker.
func (DayTicks) Ticks(min, max float64) []plot.Tick {
	from, to := T(min).In(Loc), T(max).In(Loc)
	span := to.Sub(from).Hours() / 24
	var out []plot.Tick
	add := func(t time.Time, label string) {
		if x := X(t); x >= min && x <= max {
			out = append(out, plot.Tick{Value: x, Label: label})
		}
	}
	day0 := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, Loc)
	switch {
	case span <= 3:
		for t := day0; !t.After(to); t = t.Add(time.Hour) {
			switch {
			case t.Hour() == 0:
				add(t, t.Format("Mon 02 Jan"))
			case t.Hour()%6 == 0:
				add(t, t.Format("15:04"))
			default:
				add(t, "")
			}
		}
	case span <= 130:
		step := 1
		for _, s := range []int{1, 2, 7, 14} {
			step = s
			if span/float64(s) <= 14 {
				break
			}
		}
		format := "Mon\n02 Jan"
		if step > 1 {
			format = "02 Jan"
		}
		for t := day0; !t.After(to); t = t.AddDate(0, 0, 1) {
			labelled := false
			switch step {
			case 1:
				labelled = true
			case 2:
				labelled = t.YearDay()%2 == 0
			default:
				_, wk := t.ISOWeek()
				labelled = t.Weekday() == time.Monday && (step == 7 || wk%2 == 0)
			}
			if labelled {
				add(t, t.Format(format))
			} else if span <= 60 {
				add(t, "")
			}
		}
	default:
		m0 := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, Loc)
		for t := m0; !t.After(to); t = t.AddDate(0, 1, 0) {
			add(t, t.Format("Jan 2006"))
			add(t.AddDate(0, 0, 14), "")
		}
	}
	return out
}

// LineStyle describes a line.
type LineStyle struct {
	Color  color.Color
	Width  float64 // points
	Dashed bool
	Dotted bool
}

func (s LineStyle) draw() draw.LineStyle {
	w := s.Width
	if w == 0 {
		w = 1
	}
	ls := draw.LineStyle{Color: s.Color, Width: vg.Points(w)}
	switch {
	case s.Dashed:
		ls.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	case s.Dotted:
		ls.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	}
	return ls
}

// segments splits x, y at non-finite values into runs of finite points.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) || math.IsNaN(xs[i]) || math.IsInf(xs[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Line adds a line through (xs, ys), broken where y is not finite; legend
// "" adds no legend entry.
func Line(p *plot.Plot, xs, ys []float64, s LineStyle, legend string) {
	first := true
	for _, seg := range segments(xs, ys) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			continue
		}
		l.LineStyle = s.draw()
		p.Add(l)
		if first && legend != "" {
			p.Legend.Add(legend, l)
		}
		first = false
	}
}

// Band adds a filled band between lo and hi (broken where either is not
// finite).
func Band(p *plot.Plot, xs, lo, hi []float64, c color.Color, legend string) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	first := true
	flush := func(idx []int) {
		if len(idx) < 2 {
			return
		}
		poly := make(plotter.XYs, 0, 2*len(idx))
		for _, i := range idx {
			poly = append(poly, plotter.XY{X: xs[i], Y: hi[i]})
		}
		for k := len(idx) - 1; k >= 0; k-- {
			poly = append(poly, plotter.XY{X: xs[idx[k]], Y: lo[idx[k]]})
		}
		pg, err := plotter.NewPolygon(poly)
		if err != nil {
			return
		}
		pg.Color = c
		pg.LineStyle.Width = 0
		p.Add(pg)
		if first && legend != "" {
			p.Legend.Add(legend, pg)
		}
		first = false
	}
	var run []int
	for i := range xs {
		if finite(xs[i]) && finite(lo[i]) && finite(hi[i]) {
			run = append(run, i)
			continue
		}
		flush(run)
		run = nil
	}
	flush(run)
}

// Points adds markers.
func Points(p *plot.Plot, xs, ys []float64, c color.Color, radius float64, shape draw.GlyphDrawer, legend string) {
	var pts plotter.XYs
	for _, seg := range segments(xs, ys) {
		pts = append(pts, seg...)
	}
	if len(pts) == 0 {
		return
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return
	}
	if shape == nil {
		shape = draw.CircleGlyph{}
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: shape}
	p.Add(sc)
	if legend != "" {
		p.Legend.Add(legend, sc)
	}
}

// Label adds a text label at (x, y) in data coordinates.
func Label(p *plot.Plot, x, y float64, text string, c color.Color, dx, dy float64) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{text}})
	if err != nil {
		return
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Color = c
		l.TextStyle[i].Font.Size = 9.5
		l.TextStyle[i].Font.Variant = font.Variant("Sans")
	}
	l.Offset = vg.Point{X: vg.Points(dx), Y: vg.Points(dy)}
	p.Add(l)
}

// xSpan fills the full height of the plot between two x values.
type xSpan struct {
	from, to float64
	color    color.Color
}

func (s xSpan) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x0, x1 := trX(s.from), trX(s.to)
	if x1 < c.Min.X || x0 > c.Max.X {
		return
	}
	x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
	c.FillPolygon(s.color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
}

func (s xSpan) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// Shade fills the full height of the plot between two instants (or x
// values); legend "" adds no legend entry.
func Shade(p *plot.Plot, from, to float64, c color.Color, legend string) {
	s := xSpan{from, to, c}
	p.Add(s)
	if legend != "" {
		p.Legend.Add(legend, s)
	}
}

// rule is a full-height vertical or full-width horizontal line.
type rule struct {
	v        float64
	vertical bool
	style    draw.LineStyle
}

func (r rule) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if r.vertical {
		x := trX(r.v)
		if x >= c.Min.X && x <= c.Max.X {
			c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
		}
		return
	}
	y := trY(r.v)
	if y >= c.Min.Y && y <= c.Max.Y {
		c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
	}
}

func (r rule) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
}

// VLine adds a full-height vertical line at x.
func VLine(p *plot.Plot, x float64, s LineStyle, legend string) {
	r := rule{x, true, s.draw()}
	p.Add(r)
	if legend != "" {
		p.Legend.Add(legend, r)
	}
}

// HLine adds a full-width horizontal line at y.
func HLine(p *plot.Plot, y float64, s LineStyle, legend string) {
	r := rule{y, false, s.draw()}
	p.Add(r)
	if legend != "" {
		p.Legend.Add(legend, r)
	}
}

// SavePNG renders plots stacked vertically (each panelHeight inches high,
// width inches wide) into a PNG file at 100 dpi.
func SavePNG(path string, width, panelHeight float64, plots ...*plot.Plot) error {
	w, h := vg.Length(width)*vg.Inch, vg.Length(panelHeight*float64(len(plots)))*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(100))
	dc := draw.New(img)
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Points(4), PadY: vg.Points(10),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(12)}
	cs := plot.Align(rows, tiles, dc)
	for i, p := range plots {
		p.Draw(cs[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
