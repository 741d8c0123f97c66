package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine"
)

// maxSeriesLimit caps one page of the series list.
const maxSeriesLimit = 10000

// seriesItem is one entry of GET /api/v1/series.
type seriesItem struct {
	ID          string            `json:"id"`
	Measurement string            `json:"measurement"`
	Field       string            `json:"field"`
	Tags        map[string]string `json:"tags"`
}

// listSeries answers GET /api/v1/series?measurement=&field=&tag=k:v&start=&end=&limit=&offset=.
func (s *Server) listSeries(c *gin.Context) {
	f := engine.SeriesFilter{Measurement: c.Query("measurement"), Field: c.Query("field")}
	for _, kv := range c.QueryArray("tag") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("tag=%q: use tag=key:value", kv), nil)
			return
		}
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		f.Tags[k] = v
	}
	now := s.opts.Now()
	var err error
	if f.Start, err = parseTimeParam(c, "start", time.Time{}, now); err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if f.End, err = parseTimeParam(c, "end", now, now); err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	limit, offset, ok := pageParams(c, 1000, maxSeriesLimit)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	keys, err := s.opts.Store.ListSeries(ctx, f)
	if err != nil {
		s.storeError(c, err)
		return
	}
	total := len(keys)
	if offset > len(keys) {
		offset = len(keys)
	}
	keys = keys[offset:]
	if len(keys) > limit {
		keys = keys[:limit]
	}
	items := make([]seriesItem, len(keys))
	for i, k := range keys {
		tags := k.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		items[i] = seriesItem{ID: k.ID(), Measurement: k.Measurement, Field: k.Field, Tags: tags}
	}
	setPage(c, offset, limit, len(items), total)
	c.JSON(http.StatusOK, gin.H{"series": items, "total": total, "offset": offset, "limit": limit})
}

// seriesData answers GET /api/v1/series/{id}/data?start=&end=&step=&agg=:
// one series' history, downsampled in the store.
func (s *Server) seriesData(c *gin.Context) {
	key, err := engine.ParseSeriesID(c.Param("id"))
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error()+" (URL-encode the id: measurement,tag=value#field)", nil)
		return
	}
	now := s.opts.Now()
	q := engine.RangeQuery{}
	if q.End, err = parseTimeParam(c, "end", now, now); err == nil {
		q.Start, err = parseTimeParam(c, "start", q.End.Add(-7*24*time.Hour), now)
	}
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if st := c.Query("step"); st != "" {
		d, ok := parseRelative(st)
		if !ok || d <= 0 {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("step=%q: use a positive duration such as 5m, 1h or 1d", st), nil)
			return
		}
		q.Step = d
	} else {
		// Default: about 1000 points over the range, at least a minute.
		q.Step = max(time.Minute, q.End.Sub(q.Start)/1000).Truncate(time.Second)
	}
	if q.Agg, err = engine.ParseAggregate(c.Query("agg")); err != nil {
		abortProblem(c, http.StatusBadRequest, "agg: "+err.Error(), nil)
		return
	}
	if err := q.Validate(); err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if q.End.Sub(q.Start)/q.Step > 100000 {
		abortProblem(c, http.StatusBadRequest, "more than 100000 windows: use a larger step or a shorter range", nil)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	sr, err := s.opts.Store.Read(ctx, key, q)
	if err != nil {
		s.storeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": key.ID(), "key": sr.Key, "start": q.Start, "end": q.End, "step": q.Step.String(), "agg": q.Agg, "samples": sr.Samples})
}

// storeError maps store errors to statuses: not found 404, unavailable 503.
func (s *Server) storeError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		abortProblem(c, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		c.Header("Retry-After", "10")
		abortProblem(c, http.StatusServiceUnavailable, err.Error(), nil)
	default:
		s.log.Error("store call failed", "err", err, "request_id", c.GetString(requestIDKey))
		abortProblem(c, http.StatusInternalServerError, "store error: "+err.Error(), nil)
	}
}

// parseTimeParam accepts RFC 3339, Unix seconds, or a negative duration
// relative to now ("-7d", "-12h").
func parseTimeParam(c *gin.Context, name string, def, now time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 && n < 1e11 {
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)).UTC(), nil
	}
	if strings.HasPrefix(v, "-") {
		rel := strings.TrimPrefix(v, "-")
		if d, ok := parseRelative(rel); ok {
			return now.Add(-d), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s=%q: use RFC 3339 (2026-11-01T00:00:00Z), Unix seconds, or a relative time such as -7d or -12h", name, v)
}

func parseRelative(s string) (time.Duration, bool) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 || n > 36500 { // beyond 100 years the nanoseconds overflow soon
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

func intParam(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: use an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}
