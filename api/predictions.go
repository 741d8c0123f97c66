package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine/fleet"
)

// predictions answers GET /api/v1/predictions?kind=&tag=k:v&host=&status=&at_risk=&limit=&offset=:
// the latest fleet run, sorted by urgency (at-risk first, soonest breach
// first). Predictions are computed by the periodic run, never on request;
// the answer says when (computed_at) and how old (age_seconds) they are.
func (s *Server) predictions(c *gin.Context) {
	if s.opts.Predictions == nil {
		abortProblem(c, http.StatusServiceUnavailable, "predictions are disabled (predictions.interval is 0)", nil)
		return
	}
	snap, err := s.opts.Predictions()
	if errors.Is(err, fleet.ErrNoSnapshot) {
		c.Header("Retry-After", "30")
		abortProblem(c, http.StatusServiceUnavailable, "predictions not computed yet: the first run over the fleet is in progress", nil)
		return
	}
	if err != nil {
		abortProblem(c, http.StatusServiceUnavailable, err.Error(), nil)
		return
	}
	var kind fleet.Kind
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
	status := c.Query("status")
	limit, err := intParam(c, "limit", 100, 1, 10000)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	offset, err := intParam(c, "offset", 0, 0, 1<<30)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	out := make([]fleet.Prediction, 0, len(snap.Predictions))
next:
	for _, p := range snap.Predictions {
		if kind != "" && p.Kind != kind || status != "" && p.Status != status || atRisk != "" && p.AtRisk != (atRisk == "true") {
			continue
		}
		for k, v := range tags {
			if p.Entity[k] != v {
				continue next
			}
		}
		out = append(out, p)
	}
	total := len(out)
	out = out[min(offset, len(out)):]
	out = out[:min(limit, len(out))]
	c.JSON(http.StatusOK, gin.H{
		"computed_at": snap.ComputedAt,
		"age_seconds": int(s.opts.Now().Sub(snap.ComputedAt) / time.Second),
		"total":       total,
		"offset":      offset,
		"limit":       limit,
		"predictions": out,
		"errors":      snap.Errors,
	})
}
