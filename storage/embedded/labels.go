package embedded

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/seed-f1b503aa/foresight/engine"
)

// isReserved reports whether a tag key collides with a label the store
// uses itself.
func isReserved(name string) bool { return name == MeasurementLabel || name == FieldLabel }

// checkTags validates tag keys: non-empty and not reserved.
func checkTags(tags map[string]string) error {
	for k := range tags {
		if k == "" {
			return fmt.Errorf("%w: empty tag key", ErrInvalidPoint)
		}
		if isReserved(k) {
			return fmt.Errorf("%w: %q", ErrReservedLabel, k)
		}
	}
	return nil
}

// keyLabels returns the label set of a series key. Tags with empty values
// are left out (TSDB treats an empty value as an absent label).
func keyLabels(b *labels.ScratchBuilder, measurement, field string, tags map[string]string) labels.Labels {
	b.Reset()
	b.Add(MeasurementLabel, measurement)
	b.Add(FieldLabel, field)
	for k, v := range tags {
		if v != "" {
			b.Add(k, v)
		}
	}
	b.Sort()
	return b.Labels()
}

// validKey checks a key used for reading; a key that cannot exist in the
// store yields an error wrapping engine.ErrNotFound.
func validKey(k engine.SeriesKey) error {
	if k.Measurement == "" || k.Field == "" {
		return fmt.Errorf("%w: %s: empty measurement or field", engine.ErrNotFound, k.ID())
	}
	if err := checkTags(k.Tags); err != nil {
		return fmt.Errorf("%w: %s: %v", engine.ErrNotFound, k.ID(), err)
	}
	return nil
}

// keyMatchers returns one equality matcher per label of lset.
func keyMatchers(lset labels.Labels) []*labels.Matcher {
	ms := make([]*labels.Matcher, 0, lset.Len())
	lset.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	return ms
}

// labelsKey is the inverse of keyLabels.
func labelsKey(lset labels.Labels) engine.SeriesKey {
	var k engine.SeriesKey
	n := lset.Len() - 2
	lset.Range(func(l labels.Label) {
		switch l.Name {
		case MeasurementLabel:
			k.Measurement = l.Value
		case FieldLabel:
			k.Field = l.Value
		default:
			if k.Tags == nil {
				k.Tags = make(map[string]string, max(n, 1))
			}
			k.Tags[l.Name] = l.Value
		}
	})
	return k
}

// normalizeKey drops empty-valued tags, so the key returned for a read
// names the series as stored.
func normalizeKey(k engine.SeriesKey) engine.SeriesKey {
	for _, v := range k.Tags {
		if v == "" {
			tags := make(map[string]string, len(k.Tags))
			for tk, tv := range k.Tags {
				if tv != "" {
					tags[tk] = tv
				}
			}
			k.Tags = tags
			break
		}
	}
	return k
}

// toMillis converts a point time to TSDB milliseconds, truncating any
// sub-millisecond part (towards the past: UnixMilli floors).
func toMillis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts TSDB milliseconds to a UTC time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// ceilMillis returns the smallest millisecond timestamp at or after t.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%1e6 != 0 {
		ms++
	}
	return ms
}
