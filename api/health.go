package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine"
)

// healthz answers 200 while the process serves HTTP (liveness).
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz checks the metric store (and the optional Ready hook) and answers
// 503 with the reason when it cannot serve: the problem's detail names what
// is wrong ("metric store unreachable" while the store is down), checks
// carries each check's error.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	checks := gin.H{}
	var reasons []string
	if err := s.opts.Store.Ping(ctx); err != nil {
		reason := "metric store: " + err.Error()
		if errors.Is(err, engine.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			reason = "metric store unreachable: " + err.Error()
		}
		checks["store"] = reason
		reasons = append(reasons, reason)
	} else {
		checks["store"] = "ok"
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			checks["startup"] = err.Error()
			reasons = append(reasons, err.Error())
		} else {
			checks["startup"] = "ok"
		}
	}
	if len(reasons) > 0 {
		abortProblem(c, http.StatusServiceUnavailable, "not ready: "+strings.Join(reasons, "; "), map[string]any{"checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

// ping mimics InfluxDB's /ping so agents that probe it before writing work.
func (s *Server) ping(c *gin.Context) {
	c.Header("X-Influxdb-Version", "foresight")
	c.Status(http.StatusNoContent)
}
