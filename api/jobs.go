package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/jobs"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

func (s *Server) jobsEnabled(c *gin.Context) bool {
	if s.opts.Jobs == nil {
		abortProblem(c, http.StatusServiceUnavailable, "the job scheduler is not running on this server", nil)
		return false
	}
	return true
}

// jobError maps the scheduler's errors to statuses.
func (s *Server) jobError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, jobs.ErrUnknownJob):
		abortProblem(c, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, jobs.ErrAlreadyRunning):
		abortProblem(c, http.StatusConflict, err.Error(), nil)
	default:
		s.stateError(c, err)
	}
}

// runView is a recorded run as the API shows it.
type runView struct {
	ID         int64      `json:"id"`
	Job        string     `json:"job"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Series counts the series (predictions or forecasts) processed.
	Series          int     `json:"series"`
	Failures        int     `json:"failures"`
	Error           string  `json:"error,omitempty"`
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	Running         bool    `json:"running"`
}

func viewRun(r state.JobRunRecord) runView {
	v := runView{ID: r.ID, Job: r.Job, StartedAt: r.StartedAt, Series: r.Series, Failures: r.Failures, Error: r.Error, Running: r.FinishedAt.IsZero()}
	if !r.FinishedAt.IsZero() {
		f := r.FinishedAt
		v.FinishedAt = &f
		v.DurationSeconds = f.Sub(r.StartedAt).Seconds()
	}
	return v
}

// jobView is a job as the API shows it (runs in the API's own shape).
type jobView struct {
	jobs.Status
	LastRun *runView `json:"last_run,omitempty"`
}

func viewJob(st jobs.Status) jobView {
	v := jobView{Status: st}
	if st.LastRun != nil {
		r := viewRun(*st.LastRun)
		v.LastRun = &r
	}
	return v
}

// listJobs answers GET /api/v1/jobs: every scheduled job with its schedule,
// next run, last run and freshness.
func (s *Server) listJobs(c *gin.Context) {
	if !s.jobsEnabled(c) {
		return
	}
	list, err := s.opts.Jobs.List(c.Request.Context())
	if err != nil {
		s.jobError(c, err)
		return
	}
	out := make([]jobView, len(list))
	for i, st := range list {
		out[i] = viewJob(st)
	}
	c.JSON(http.StatusOK, gin.H{"jobs": out})
}

// getJob answers GET /api/v1/jobs/{name}.
func (s *Server) getJob(c *gin.Context) {
	if !s.jobsEnabled(c) {
		return
	}
	st, err := s.opts.Jobs.Get(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.jobError(c, err)
		return
	}
	c.JSON(http.StatusOK, viewJob(st))
}

// jobRuns answers GET /api/v1/jobs/{name}/runs?limit=&offset=: its runs,
// newest first.
func (s *Server) jobRuns(c *gin.Context) {
	if !s.jobsEnabled(c) {
		return
	}
	limit, offset, ok := pageParams(c, 50, 1000)
	if !ok {
		return
	}
	runs, err := s.opts.Jobs.Runs(c.Request.Context(), c.Param("name"), limit, offset)
	if err != nil {
		s.jobError(c, err)
		return
	}
	out := make([]runView, len(runs))
	for i, r := range runs {
		out[i] = viewRun(r)
	}
	setPage(c, offset, limit, len(out))
	c.JSON(http.StatusOK, gin.H{"job": c.Param("name"), "runs": out, "offset": offset, "limit": limit})
}

// triggerJob answers POST /api/v1/jobs/{name}/trigger: starts a run now
// (202 with the run id; 409 when one is already running).
func (s *Server) triggerJob(c *gin.Context) {
	if !s.jobsEnabled(c) {
		return
	}
	name := c.Param("name")
	setAuditTarget(c, "job "+name)
	tr, err := s.opts.Jobs.Trigger(c.Request.Context(), name, principal(c).Name)
	if err != nil {
		s.jobError(c, err)
		return
	}
	setAuditDetail(c, fmt.Sprintf("run %d", tr.RunID))
	c.Header("Location", fmt.Sprintf("/api/v1/jobs/%s/runs", name))
	c.JSON(http.StatusAccepted, gin.H{"job": tr.Job, "run_id": tr.RunID})
}
