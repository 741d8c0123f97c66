package main

import (
	"fmt"
	"math"

	"github.com/seed-f1b503aa/foresight/datasets"
	"github.com/seed-f1b503aa/foresight/engine"
)

// readCSVPoints reads a long-form "series,timestamp,value" file into points.
// The whole file is validated first: a bad row or series id is an error and
// nothing is returned. Missing values (empty, NaN) are skipped.
func readCSVPoints(path string) ([]engine.Point, error) {
	r, _, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	series, err := datasets.ReadLongCSV(r)
	if err != nil {
		return nil, err
	}
	var pts []engine.Point
	for _, s := range series {
		key, err := engine.ParseSeriesID(s.Name)
		if err != nil {
			return nil, fmt.Errorf("series column: %w (use measurement,tag=value#field)", err)
		}
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			pts = append(pts, engine.Point{Measurement: key.Measurement, Tags: key.Tags, Fields: map[string]float64{key.Field: v}, Time: s.Times[i]})
		}
	}
	return pts, nil
}
