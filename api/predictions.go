package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// Jobs is what the API needs of the job scheduler (jobs.Service).
type Jobs interface {
	List(ctx context.Context) ([]jobs.Status, error)
	Get(ctx context.Context, name string) (jobs.Status, error)
	Runs(ctx context.Context, name string, limit, offset int) ([]state.JobRunRecord, error)
	Trigger(ctx context.Context, name, actor string) (jobs.Triggered, error)
	Predictions(ctx context.Context) (jobs.Served, error)
}

// served returns the latest predictions: from the job scheduler, or from
// the Predictions hook of a server without one.
func (s *Server) served(c *gin.Context) (jobs.Served, bool) {
	var sv jobs.Served
	var err error
	switch {
	case s.opts.Jobs != nil:
		sv, err = s.opts.Jobs.Predictions(c.Request.Context())
	case s.opts.Predictions != nil:
		sv.Snapshot, err = s.opts.Predictions()
		sv.Version = sv.Snapshot.ComputedAt.Format(time.RFC3339Nano)
	default:
		abortProblem(c, http.StatusServiceUnavailable, "predictions are disabled: no predict job is configured", nil)
		return sv, false
	}
	if errors.Is(err, fleet.ErrNoSnapshot) {
		c.Header("Retry-After", "30")
		abortProblem(c, http.StatusServiceUnavailable, "predictions not computed yet: the first run over the fleet is in progress", nil)
		return sv, false
	}
	if err != nil {
		s.log.Error("reading predictions", "err", err, "request_id", c.GetString(requestIDKey))
		abortProblem(c, http.StatusServiceUnavailable, "predictions unavailable: "+err.Error(), nil)
		return sv, false
	}
	return sv, true
}

// notModified answers 304 when the client holds the current version.
// Predictions change only when a job finishes, so dashboards polling every
// few seconds mostly get an empty 304.
func notModified(c *gin.Context, etag string) bool {
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, max-age=0, must-revalidate")
	for _, t := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if strings.TrimSpace(t) == etag {
			c.Status(http.StatusNotModified)
			return true
		}
	}
	return false
}

// predictions answers GET /api/v1/predictions?kind=&tag=k:v&host=&status=&at_risk=&urgency=&limit=&offset=:
// the latest predictions of every predict job, sorted by urgency (at risk
// first, soonest breach first). Predictions are computed by the scheduled
// jobs, never on request; the answer says when (computed_at), how old
// (age_seconds) and, per job, whether they are stale.
func (s *Server) predictions(c *gin.Context) {
	sv, ok := s.served(c)
	if !ok {
		return
	}
	etag := `W/"p-` + sv.Version + `"`
	if notModified(c, etag) {
		return
	}
	s.cache.serve(c, "predictions\x00"+sv.Version+"\x00"+c.Request.URL.RawQuery, func(c *gin.Context) { s.listPredictions(c, sv) })
}

func (s *Server) listPredictions(c *gin.Context, sv jobs.Served) {
	snap := sv.Snapshot
	var kind fleet.Kind
	var err error
	if k := c.Query("kind"); k != "" {
		if kind, err = fleet.ParseKind(k); err != nil {
			abortProblem(c, http.StatusBadRequest, err.Error(), nil)
			return
		}
	}
	tags := map[string]string{}
	for _, kv := range c.QueryArray("tag") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("tag=%q: use tag=key:value", kv), nil)
			return
		}
		tags[k] = v
	}
	if h := c.Query("host"); h != "" {
		tags["host"] = h
	}
	atRisk := c.Query("at_risk")
	if atRisk != "" && atRisk != "true" && atRisk != "false" {
		abortProblem(c, http.StatusBadRequest, "at_risk: use true or false", nil)
		return
	}
	// within=72h keeps predictions whose median breach is that close.
	var within time.Duration
	if w := c.Query("within"); w != "" {
		if within, err = time.ParseDuration(w); err != nil || within <= 0 {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("within=%q: use a positive duration such as 72h", w), nil)
			return
		}
	}
	status := c.Query("status")
	limit, offset, ok := pageParams(c, 100, 10000)
	if !ok {
		return
	}
	detail := c.DefaultQuery("detail", "true") != "false"
	out := make([]fleet.Prediction, 0, len(snap.Predictions))
next:
	for _, p := range snap.Predictions {
		if kind != "" && p.Kind != kind || status != "" && p.Status != status || atRisk != "" && p.AtRisk != (atRisk == "true") {
			continue
		}
		if within > 0 && (p.BreachAt == nil || p.BreachAt.Sub(snap.ComputedAt) > within) {
			continue
		}
		for k, v := range tags {
			if p.Entity[k] != v {
				continue next
			}
		}
		if !detail {
			p.Detail = nil
		}
		out = append(out, p)
	}
	total := len(out)
	out = out[min(offset, len(out)):]
	out = out[:min(limit, len(out))]
	setPage(c, offset, limit, len(out), total)
	stale := false
	for _, f := range sv.Jobs {
		stale = stale || f.Stale
	}
	c.JSON(http.StatusOK, gin.H{
		"computed_at": snap.ComputedAt,
		"age_seconds": int(s.opts.Now().Sub(snap.ComputedAt) / time.Second),
		"stale":       stale,
		"jobs":        sv.Jobs,
		"total":       total,
		"offset":      offset,
		"limit":       limit,
		"predictions": out,
		"errors":      snap.Errors,
	})
}

// getPrediction answers GET /api/v1/predictions/{id}: one prediction with
// its full evidence (the id is the prediction's stable id, URL-escaped).
func (s *Server) getPrediction(c *gin.Context) {
	sv, ok := s.served(c)
	if !ok {
		return
	}
	id := c.Param("id")
	for _, p := range sv.Snapshot.Predictions {
		if p.ID == id {
			if notModified(c, `W/"p-`+sv.Version+`"`) {
				return
			}
			c.JSON(http.StatusOK, gin.H{"computed_at": sv.Snapshot.ComputedAt, "prediction": p})
			return
		}
	}
	abortProblem(c, http.StatusNotFound, fmt.Sprintf("no prediction %q in the latest runs", id), nil)
}
