// Package nb holds what the notebooks share: gathering series from the
// demo fleet, the Prometheus-style predict_linear peer, Markdown output,
// number formatting and plot helpers. Nothing here predicts anything: the
// notebooks call Foresight's own packages for that.
package nb

import (
	"math"
	"sort"
	"time"

	"github.com/seed-f1b503aa/foresight/calendar"
	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
)

// Cal is the business calendar of the demo fleet (the built-in default) and
// Loc its time zone, in which every time in the notebooks is shown.
var (
	Cal = calendar.DefaultCalendar()
	Loc = Cal.Location()
)

// Source is one series key (measurement and tags) of a generated fleet with
// all its fields, in time order. Values are NaN where a field is missing.
type Source struct {
	Measurement string
	Tags        map[string]string
	Times       []time.Time
	Values      map[string][]float64
}

// ID returns the series ID of one field, e.g. "disk,host=db-01,path=/data#used".
func (s *Source) ID(field string) string {
	return engine.SeriesKey{Measurement: s.Measurement, Field: field, Tags: s.Tags}.ID()
}

// Samples returns one field as engine samples (missing values left out).
func (s *Source) Samples(field string) []engine.Sample {
	v := s.Values[field]
	out := make([]engine.Sample, 0, len(v))
	for i, t := range s.Times {
		if !math.IsNaN(v[i]) {
			out = append(out, engine.Sample{Time: t, Value: v[i]})
		}
	}
	return out
}

// Window returns the index range [lo, hi) of the samples in (from, to].
func (s *Source) Window(from, to time.Time) (int, int) {
	return Window(s.Times, from, to)
}

// Window returns the index range [lo, hi) of the sorted times in (from, to].
func Window(times []time.Time, from, to time.Time) (int, int) {
	lo := sort.Search(len(times), func(i int) bool { return times[i].After(from) })
	hi := sort.Search(len(times), func(i int) bool { return times[i].After(to) })
	return lo, hi
}

// Collect gathers the sources of a fleet for which keep returns true,
// sorted by series key. It copies what the fleet's reused points hold.
func Collect(f *datasets.Fleet, keep func(measurement string, tags map[string]string) bool) ([]*Source, error) {
	byKey := map[string]*Source{}
	var order []*Source
	err := f.Each(func(p engine.Point) error {
		if !keep(p.Measurement, p.Tags) {
			return nil
		}
		key := engine.SeriesKey{Measurement: p.Measurement, Tags: p.Tags}.ID()
		s := byKey[key]
		if s == nil {
			tags := make(map[string]string, len(p.Tags))
			for k, v := range p.Tags {
				tags[k] = v
			}
			s = &Source{Measurement: p.Measurement, Tags: tags, Values: map[string][]float64{}}
			byKey[key] = s
			order = append(order, s)
		}
		n := len(s.Times)
		s.Times = append(s.Times, p.Time)
		for name, v := range p.Fields {
			col, ok := s.Values[name]
			if !ok {
				col = make([]float64, n, n+1)
				for i := range col {
					col[i] = math.NaN()
				}
			}
			s.Values[name] = append(col, v)
		}
		for name, col := range s.Values {
			if len(col) == n {
				s.Values[name] = append(col, math.NaN())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(order, func(i, j int) bool { return order[i].ID("") < order[j].ID("") })
	return order, nil
}

// Find returns the source with this measurement and these tags (nil if
// absent).
func Find(srcs []*Source, measurement string, tags map[string]string) *Source {
	want := engine.SeriesKey{Measurement: measurement, Tags: tags}.ID()
	for _, s := range srcs {
		if s.ID("") == want {
			return s
		}
	}
	return nil
}

// Align returns the values of (times2, vals2) at the given times, NaN where
// times2 has no sample at that instant.
func Align(times []time.Time, times2 []time.Time, vals2 []float64) []float64 {
	at := make(map[int64]float64, len(times2))
	for i, t := range times2 {
		at[t.UnixNano()] = vals2[i]
	}
	out := make([]float64, len(times))
	for i, t := range times {
		v, ok := at[t.UnixNano()]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}
