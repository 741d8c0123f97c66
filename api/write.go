package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seed-f1b503aa/foresight/engine"
)

type ingestMetrics struct {
	points   prometheus.Counter
	rejected prometheus.Counter
	batches  *prometheus.CounterVec
	strings  prometheus.Counter
}

func newIngestMetrics(reg prometheus.Registerer) *ingestMetrics {
	m := &ingestMetrics{
		points: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foresight_ingest_points_total", Help: "Points written through the write endpoints.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foresight_ingest_rejected_lines_total", Help: "Malformed lines of line protocol (their batches are rejected whole).",
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foresight_ingest_batches_total", Help: "Write requests by outcome.",
		}, []string{"outcome"}),
		strings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foresight_ingest_skipped_string_fields_total", Help: "String field values skipped (only numbers are stored).",
		}),
	}
	reg.MustRegister(m.points, m.rejected, m.batches, m.strings)
	return m
}

// write implements InfluxDB's POST /api/v2/write and POST /write.
//
// The body is line protocol, optionally gzip-encoded (Content-Encoding:
// gzip); precision (ns, us, ms, s; v1 also n, u, m, h) is honoured; org,
// bucket and db parameters are accepted and ignored: Foresight writes to
// its configured store. A batch is all-or-nothing: any malformed line
// rejects the whole batch with 400 and the line numbers, and nothing is
// written; so does a point the store refuses for what it holds (a time
// outside the window it accepts, a reserved tag key: engine.PointError),
// with the point's line. Values that conflict with stored ones (the
// embedded store does not overwrite) get 409: the rest of the batch was
// written, and retrying cannot help. A body over the limit gets 413. When
// the store fails the answer is 503 (retry: writes are idempotent per
// series and timestamp).
func (s *Server) write(c *gin.Context) {
	prec, err := engine.ParsePrecision(c.Query("precision"))
	if err != nil {
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	limit := s.opts.MaxBodyBytes
	if c.Request.ContentLength > limit {
		s.ingest.batches.WithLabelValues("too_large").Inc()
		abortProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the limit of %d bytes: split the batch", c.Request.ContentLength, limit), nil)
		return
	}
	var body io.Reader = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(c.GetHeader("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.ingest.batches.WithLabelValues("bad_request").Inc()
			abortProblem(c, http.StatusBadRequest, "gzip body: "+err.Error(), nil)
			return
		}
		defer zr.Close()
		body = zr
	default:
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q: use gzip or none", enc), nil)
		return
	}
	// Read the whole (decoded) batch, bounded, before parsing: a batch is
	// all-or-nothing and a gzip bomb must not get past the limit.
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(data)) > limit {
		s.ingest.batches.WithLabelValues("too_large").Inc()
		abortProblem(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the limit of %d bytes (after decoding): split the batch", limit), nil)
		return
	}
	if err != nil {
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, "read body: "+err.Error(), nil)
		return
	}
	points, lines, stats, err := engine.ParseLineProtocolLines(bytes.NewReader(data), prec, s.opts.Now())
	s.ingest.strings.Add(float64(stats.SkippedStringFields))
	var perr *engine.ParseError
	if errors.As(err, &perr) {
		s.ingest.rejected.Add(float64(perr.Total))
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, perr.Error(), map[string]any{"code": "invalid", "lines": perr.Lines, "rejected_lines": perr.Total})
		return
	}
	if err != nil {
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	if err := s.opts.Store.Write(ctx, points); err != nil {
		if s.refusedWrite(c, err, lines) {
			return
		}
		s.ingest.batches.WithLabelValues("store_error").Inc()
		s.log.Warn("write to store failed", "points", len(points), "err", err, "request_id", c.GetString(requestIDKey))
		c.Header("Retry-After", "10")
		abortProblem(c, http.StatusServiceUnavailable, "store write failed, retry the batch: "+err.Error(), nil)
		return
	}
	s.ingest.points.Add(float64(len(points)))
	s.ingest.batches.WithLabelValues("ok").Inc()
	c.Status(http.StatusNoContent)
}

// refusedWrite answers a store's refusal of the client's data, which a
// retry cannot fix, and reports whether err was one: a point refused for
// what it holds (400, naming its line; nothing was written), or values
// conflicting with stored ones (409). lines[i] is the input line of point i.
func (s *Server) refusedWrite(c *gin.Context, err error, lines []int64) bool {
	var pe *engine.PointError
	var unrep interface{ Unrepresentable() bool }
	switch {
	case errors.As(err, &pe):
		le := engine.LineError{Reason: pe.Err.Error()}
		if pe.Index >= 0 && pe.Index < len(lines) {
			le.Line = lines[pe.Index]
		}
		s.ingest.rejected.Inc()
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, "the store refused a point, nothing written: "+le.Error(),
			map[string]any{"code": "invalid", "lines": []engine.LineError{le}, "rejected_lines": 1})
	case errors.As(err, &unrep) && unrep.Unrepresentable():
		s.ingest.batches.WithLabelValues("bad_request").Inc()
		abortProblem(c, http.StatusBadRequest, "the store cannot hold a point of the batch, nothing written: "+err.Error(), map[string]any{"code": "invalid"})
	case errors.Is(err, engine.ErrConflict):
		s.ingest.batches.WithLabelValues("conflict").Inc()
		abortProblem(c, http.StatusConflict, err.Error(), map[string]any{"code": "conflict"})
	default:
		return false
	}
	return true
}
