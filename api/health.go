package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz answers 200 while the process serves HTTP (liveness).
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz checks the metric store (and the optional Ready hook) and answers
// 503 with the reason when it cannot serve.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := s.opts.Store.Ping(ctx); err != nil {
		checks["store"] = err.Error()
		ready = false
	} else {
		checks["store"] = "ok"
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			checks["startup"] = err.Error()
			ready = false
		} else {
			checks["startup"] = "ok"
		}
	}
	if !ready {
		abortProblem(c, http.StatusServiceUnavailable, "not ready", map[string]any{"checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

// ping mimics InfluxDB's /ping so agents that probe it before writing work.
func (s *Server) ping(c *gin.Context) {
	c.Header("X-Influxdb-Version", "foresight")
	c.Status(http.StatusNoContent)
}
