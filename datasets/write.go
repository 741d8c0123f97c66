package datasets

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// srcState is the per-pass state of one source.
type srcState struct {
	rng   *rand.Rand
	ar    []float64 // AR(1) noise state per field, in standard deviations
	gap   int       // cursor into source.gaps
	out   []int     // cursor per field into field.outliers
	vals  []float64 // current values per field
	point engine.Point
}

// run produces every sample in time order: for each step, every source in
// series-key order. fn is called for each source not in a gap, with the
// values in st.vals (aligned with s.fields).
func (f *Fleet) run(fn func(s *source, st *srcState, ns int64) error) error {
	states := make([]srcState, len(f.sources))
	innov := make([][]float64, len(f.sources))
	scale := make([][]float64, len(f.sources))
	for i, s := range f.sources {
		st := &states[i]
		st.rng = rand.New(rand.NewPCG(f.cfg.Seed, s.seed))
		st.ar = make([]float64, len(s.fields))
		st.out = make([]int, len(s.fields))
		st.vals = make([]float64, len(s.fields))
		st.point = engine.Point{Measurement: s.measurement, Tags: s.tags, Fields: make(map[string]float64, len(s.fields))}
		innov[i] = make([]float64, len(s.fields))
		scale[i] = make([]float64, len(s.fields))
		for j, fl := range s.fields {
			st.ar[j] = st.rng.NormFloat64()
			innov[i][j] = math.Sqrt(1 - fl.noise.phi*fl.noise.phi)
			if fl.decimals >= 0 {
				scale[i][j] = pow10[fl.decimals]
			}
		}
	}
	ck := newClocker(f.ct, f.cfg.Calendar.Location(), f.start)
	var c clock
	startNs := f.start.UnixNano()
	stepNs := int64(f.cfg.Step)
	for i := 0; i < f.n; i++ {
		ns := startNs + int64(i)*stepNs
		ck.at(ns, &c)
		for si, s := range f.sources {
			st := &states[si]
			for st.gap < len(s.gaps) && s.gaps[st.gap].to <= i {
				st.gap++
			}
			inGap := st.gap < len(s.gaps) && s.gaps[st.gap].from <= i
			for j, fl := range s.fields {
				v := fl.m.mean(&c)
				if nz := fl.noise; nz.abs != 0 || nz.rel != 0 {
					e := nz.phi*st.ar[j] + innov[si][j]*st.rng.NormFloat64()
					st.ar[j] = e
					v += (nz.abs + nz.rel*math.Abs(v)) * e
				}
				if oc := st.out[j]; oc < len(fl.outliers) && fl.outliers[oc].step == i {
					v = v*fl.outliers[oc].mul + fl.outliers[oc].add
					st.out[j]++
				}
				if v < fl.lo {
					v = fl.lo
				}
				if v > fl.hi {
					v = fl.hi
				}
				if sc := scale[si][j]; sc != 0 {
					v = math.Round(v*sc) / sc
				}
				st.vals[j] = v
			}
			for j, fl := range s.fields {
				if fl.capField >= 0 && st.vals[j] > st.vals[fl.capField] {
					st.vals[j] = st.vals[fl.capField]
				}
			}
			if inGap {
				continue
			}
			if err := fn(s, st, ns); err != nil {
				return err
			}
		}
	}
	return nil
}

// Each calls fn for every point of the fleet in time order: all points at
// Start, then all at Start+Step, and so on; within an instant, points are
// ordered by series key. Points inside gaps are absent. Each stops at and
// returns the first error fn returns.
//
// The Point is reused between calls: its Tags map is shared by every point
// of the same series and its Fields map is overwritten on the next call for
// that series. fn must not modify either map and must copy whatever it keeps
// after returning. Times are UTC.
func (f *Fleet) Each(fn func(p engine.Point) error) error {
	return f.run(func(s *source, st *srcState, ns int64) error {
		p := &st.point
		p.Time = time.Unix(0, ns).UTC()
		for j, fl := range s.fields {
			p.Fields[fl.name] = st.vals[j]
		}
		return fn(*p)
	})
}

// NumSeries returns the number of generated series (fields).
func (f *Fleet) NumSeries() int { return f.fields }

// WriteLineProtocol writes every point as InfluxDB line protocol with
// nanosecond timestamps, in the order of Each, one point per line
// ("disk,host=db-01,path=/data total=536870912000,used=162523469465 1793404800000000000",
// values in plain shortest decimal form, never exponents). All fields are
// float fields (no "i" suffix).
func (f *Fleet) WriteLineProtocol(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<18)
	buf := make([]byte, 0, 256)
	err := f.run(func(s *source, st *srcState, ns int64) error {
		buf = append(buf[:0], s.lpPrefix...)
		for j, fl := range s.fields {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, fl.lpKey...)
			buf = appendValue(buf, st.vals[j], s.fields[j].decimals)
		}
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, ns, 10)
		buf = append(buf, '\n')
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteCSV writes every sample in long form with the header
// "series,timestamp,value": the series ID (quoted, as IDs contain commas),
// the RFC 3339 UTC timestamp and the value, in the order of Each with one
// row per field.
func (f *Fleet) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<18)
	if _, err := bw.WriteString("series,timestamp,value\n"); err != nil {
		return err
	}
	buf := make([]byte, 0, 256)
	var ts []byte
	lastNs := int64(math.MinInt64)
	err := f.run(func(s *source, st *srcState, ns int64) error {
		if ns != lastNs {
			ts = time.Unix(0, ns).UTC().AppendFormat(ts[:0], time.RFC3339Nano)
			lastNs = ns
		}
		buf = buf[:0]
		for j, fl := range s.fields {
			buf = append(buf, fl.csvKey...)
			buf = append(buf, ts...)
			buf = append(buf, ',')
			buf = appendValue(buf, st.vals[j], fl.decimals)
			buf = append(buf, '\n')
		}
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Line-protocol escaping: measurement names escape commas and spaces; tag
// keys, tag values and field keys also escape '='. Backslashes are escaped
// too so the text round-trips.
const (
	lpMeasurementEscapes = ", \\"
	lpTagEscapes         = ", =\\"
)

func appendLPEscaped(b []byte, s, special string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		for j := 0; j < len(special); j++ {
			if c == special[j] {
				b = append(b, '\\')
				break
			}
		}
		b = append(b, c)
	}
	return b
}

// appendLPSeriesKey appends "measurement,k1=v1,k2=v2" with tags sorted.
func appendLPSeriesKey(b []byte, measurement string, tags map[string]string) []byte {
	b = appendLPEscaped(b, measurement, lpMeasurementEscapes)
	k := engine.SeriesKey{Tags: tags}
	for _, name := range k.TagNames() {
		b = append(b, ',')
		b = appendLPEscaped(b, name, lpTagEscapes)
		b = append(b, '=')
		b = appendLPEscaped(b, tags[name], lpTagEscapes)
	}
	return b
}

// appendCSVField appends s as one CSV field, quoted when needed.
func appendCSVField(b []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		quote = true
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

var pow10 = [...]float64{1, 10, 100, 1000, 10000, 100000, 1000000}

// appendValue appends v in shortest decimal form. When v is a value rounded
// to dec decimals (as the generator produces) it formats the scaled integer
// directly, which is several times faster than strconv and gives the same
// text.
func appendValue(b []byte, v float64, dec int) []byte {
	if dec >= 0 && dec < len(pow10) && math.Abs(v) < 1e15 {
		p := pow10[dec]
		n := math.Round(v * p)
		if n/p == v {
			i := int64(n)
			if i < 0 {
				b = append(b, '-')
				i = -i
			}
			ip, fp := i/int64(p), i%int64(p)
			b = strconv.AppendInt(b, ip, 10)
			if fp != 0 {
				var tmp [8]byte
				for k := dec - 1; k >= 0; k-- {
					tmp[k] = byte('0' + fp%10)
					fp /= 10
				}
				d := dec
				for d > 0 && tmp[d-1] == '0' {
					d--
				}
				b = append(b, '.')
				b = append(b, tmp[:d]...)
			}
			return b
		}
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
