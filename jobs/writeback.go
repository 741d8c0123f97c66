package jobs

import (
	"context"
	"errors"
	"math"
	"time"

	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// Tags Foresight adds to written-back points. They win over a source tag
// or entity tag of the same name.
const (
	TagKind              = "kind"
	TagJob               = "job"
	TagPredictionID      = "prediction_id"
	TagStatus            = "status"
	TagSourceMeasurement = "source_measurement"
	TagSourceField       = "source_field"
	TagModel             = "model"
)

// writeChunk is the most points handed to one store Write.
const writeChunk = 20000

// predictionPoints turns a snapshot into one point per prediction at the
// run's computed_at: tags kind, job, prediction_id, status and the entity's
// tags; fields at_risk (0/1), confidence and, when a breach is predicted,
// breach_in_hours, breach_p10_hours and breach_p90_hours (hours from
// computed_at). The store keeps numbers only, so the summary is not
// written.
func predictionPoints(measurement, job string, snap fleet.Snapshot) []engine.Point {
	at := snap.ComputedAt
	points := make([]engine.Point, 0, len(snap.Predictions))
	for _, p := range snap.Predictions {
		tags := make(map[string]string, len(p.Entity)+4)
		for k, v := range p.Entity {
			if k != "" && v != "" {
				tags[k] = v
			}
		}
		tags[TagKind] = string(p.Kind)
		tags[TagJob] = job
		tags[TagPredictionID] = p.ID
		tags[TagStatus] = p.Status
		fields := map[string]float64{"at_risk": 0}
		if p.AtRisk {
			fields["at_risk"] = 1
		}
		setFinite(fields, "confidence", p.Confidence)
		hours := func(name string, t *time.Time) {
			if t != nil {
				setFinite(fields, name, t.Sub(at).Hours())
			}
		}
		hours("breach_in_hours", p.BreachAt)
		hours("breach_p10_hours", p.BreachP10)
		hours("breach_p90_hours", p.BreachP90)
		points = append(points, engine.Point{Measurement: measurement, Tags: tags, Fields: fields, Time: at})
	}
	return points
}

// appendForecastPoints adds one point per forecast step: the source
// series' tags plus source_measurement, source_field, job and model (the
// job's configured model name, so that the next run overwrites the same
// series and times); fields mean and lo<L>/hi<L> per level (lo80, hi95…).
func appendForecastPoints(points []engine.Point, measurement, job, model string, src engine.SeriesKey, r engine.ForecastResult) []engine.Point {
	tags := make(map[string]string, len(src.Tags)+4)
	for k, v := range src.Tags {
		if k != "" && v != "" {
			tags[k] = v
		}
	}
	tags[TagSourceMeasurement] = src.Measurement
	tags[TagSourceField] = src.Field
	tags[TagJob] = job
	tags[TagModel] = model
	for _, fp := range r.Points {
		fields := make(map[string]float64, 1+2*len(fp.Bounds))
		setFinite(fields, "mean", fp.Mean)
		for _, b := range fp.Bounds {
			name := engine.LevelName(b.Level)
			setFinite(fields, "lo"+name, b.Lo)
			setFinite(fields, "hi"+name, b.Hi)
		}
		if len(fields) == 0 {
			continue
		}
		// Points of one series share the tag map: stores only read it.
		points = append(points, engine.Point{Measurement: measurement, Tags: tags, Fields: fields, Time: fp.Time})
	}
	return points
}

// setFinite sets fields[name] unless v is NaN or infinite (line protocol
// cannot carry them).
func setFinite(fields map[string]float64, name string, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		fields[name] = v
	}
}

// write writes points in chunks through the retrying store. The embedded
// store does not overwrite a sample with a different value at a series'
// newest timestamp: that refusal is logged and counted, not a failure.
func (s *Service) write(ctx context.Context, j *job, measurement string, points []engine.Point) error {
	for i := 0; i < len(points); i += writeChunk {
		chunk := points[i:min(i+writeChunk, len(points))]
		err := s.store.Write(ctx, chunk)
		if errors.Is(err, promstorage.ErrDuplicateSampleForTimestamp) {
			s.log.Warn("the store kept earlier values at some timestamps (the embedded store does not overwrite samples)",
				"job", j.name(), "measurement", measurement, "err", err)
			s.metrics.writeRefused.WithLabelValues(j.name(), measurement).Inc()
			err = nil
		}
		if err != nil {
			return err
		}
		s.metrics.points.WithLabelValues(j.name(), measurement).Add(float64(len(chunk)))
	}
	return nil
}
