package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/incident"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// ticketView is a ticket as the API shows it: the row id (used in URLs),
// the ticket and its SLA clocks.
type ticketView struct {
	RowID int64 `json:"row_id"`
	ticket.Ticket
	SLA ticket.SLA `json:"sla"`
	// AllowedTransitions are the states a person may move it to now.
	AllowedTransitions []ticket.State `json:"allowed_transitions"`
}

func (s *Server) ticketView(rowID int64, t ticket.Ticket) ticketView {
	next := ticket.Allowed(t.State)
	if next == nil {
		next = []ticket.State{}
	}
	return ticketView{RowID: rowID, Ticket: t, SLA: ticket.SLAStatus(t, s.opts.Incidents.Policy, s.opts.Now()), AllowedTransitions: next}
}

func (s *Server) ticketsEnabled(c *gin.Context) bool {
	if s.opts.State == nil || s.opts.Incidents == nil {
		abortProblem(c, http.StatusServiceUnavailable, "tickets are not enabled on this server", nil)
		return false
	}
	return true
}

func (s *Server) view(rec state.TicketRecord) (ticketView, error) {
	t, err := incident.FromRecord(rec)
	if err != nil {
		return ticketView{}, err
	}
	return s.ticketView(rec.ID, t), nil
}

// listTickets answers GET /api/v1/tickets?state=&kind=&severity=&tag=k:v&sort=&limit=&offset=.
func (s *Server) listTickets(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	f := state.TicketFilter{Sort: c.DefaultQuery("sort", "-updated_at")}
	for _, v := range c.QueryArray("state") {
		st, err := ticket.ParseState(v)
		if err != nil {
			abortProblem(c, http.StatusBadRequest, err.Error(), nil)
			return
		}
		f.States = append(f.States, string(st))
	}
	for _, v := range c.QueryArray("severity") {
		sv, err := ticket.ParseSeverity(v)
		if err != nil {
			abortProblem(c, http.StatusBadRequest, err.Error(), nil)
			return
		}
		f.Severities = append(f.Severities, string(sv))
	}
	f.Kinds = c.QueryArray("kind")
	for _, kv := range c.QueryArray("tag") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			abortProblem(c, http.StatusBadRequest, fmt.Sprintf("tag=%q: use tag=key:value", kv), nil)
			return
		}
		if f.EntityTags == nil {
			f.EntityTags = map[string]string{}
		}
		f.EntityTags[k] = v
	}
	var err error
	var ok bool
	if f.Limit, f.Offset, ok = pageParams(c, 100, 1000); !ok {
		return
	}
	recs, err := s.opts.State.ListTickets(c.Request.Context(), f)
	if err != nil {
		if strings.Contains(err.Error(), "cannot sort") {
			abortProblem(c, http.StatusBadRequest, err.Error(), nil)
			return
		}
		s.stateError(c, err)
		return
	}
	out := make([]ticketView, 0, len(recs))
	for _, r := range recs {
		v, err := s.view(r)
		if err != nil {
			s.stateError(c, err)
			return
		}
		out = append(out, v)
	}
	setPage(c, f.Offset, f.Limit, len(out))
	c.JSON(http.StatusOK, gin.H{"tickets": out, "offset": f.Offset, "limit": f.Limit})
}

// idParam parses the positive integer path parameter id; what names it in
// the error ("ticket row_id", "job_id").
func idParam(c *gin.Context, what string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		abortProblem(c, http.StatusBadRequest, fmt.Sprintf("%s %q: use a positive number", what, c.Param("id")), nil)
		return 0, false
	}
	return id, true
}

// getTicket answers GET /api/v1/tickets/{id}.
func (s *Server) getTicket(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, ok := idParam(c, "ticket row_id")
	if !ok {
		return
	}
	rec, err := s.opts.State.GetTicket(c.Request.Context(), id)
	if err != nil {
		s.stateError(c, err)
		return
	}
	v, err := s.view(rec)
	if err != nil {
		s.stateError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ticketTrail reads the audit trail of the ticket named by the id path
// parameter (404 when there is no such ticket).
func (s *Server) ticketTrail(c *gin.Context) (int64, []state.AuditRecord, bool) {
	id, ok := idParam(c, "ticket row_id")
	if !ok {
		return 0, nil, false
	}
	if _, err := s.opts.State.GetTicket(c.Request.Context(), id); err != nil {
		s.stateError(c, err)
		return 0, nil, false
	}
	h, err := s.opts.State.TicketHistory(c.Request.Context(), id)
	if err != nil {
		s.stateError(c, err)
		return 0, nil, false
	}
	return id, h, true
}

// ticketHistory answers GET /api/v1/tickets/{id}/history: the audit trail.
func (s *Server) ticketHistory(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, h, ok := s.ticketTrail(c)
	if !ok {
		return
	}
	type entry struct {
		Version int64           `json:"version"`
		At      any             `json:"at"`
		Actor   string          `json:"actor"`
		Action  string          `json:"action"`
		From    string          `json:"from,omitempty"`
		To      string          `json:"to"`
		Reason  string          `json:"reason,omitempty"`
		Details json.RawMessage `json:"details,omitempty"`
	}
	out := make([]entry, len(h))
	for i, a := range h {
		out[i] = entry{a.Version, a.At, a.Actor, a.Action, a.From, a.To, a.Reason, a.DetailsJSON}
	}
	c.JSON(http.StatusOK, gin.H{"row_id": id, "history": out})
}

// transitionTicket answers POST /api/v1/tickets/{id}/transition with
// {"to": "assigned", "actor": "alice", "reason": "…"}: moves the ticket
// through its lifecycle (409 when the move is not allowed from its state).
func (s *Server) transitionTicket(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, ok := idParam(c, "ticket row_id")
	if !ok {
		return
	}
	var req struct {
		To     string `json:"to"`
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	if !decodeBody(c, &req, 64<<10) {
		return
	}
	to, err := ticket.ParseState(req.To)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, "to: "+err.Error(), nil)
		return
	}
	actor, ok := s.actor(c, req.Actor)
	if !ok {
		return
	}
	setAuditTarget(c, fmt.Sprintf("ticket %d", id))
	setAuditDetail(c, "to "+string(to))
	s.applyTransition(c, id, to, actor, req.Reason)
}

// actor names who makes a change for the ticket history. With auth on it
// is the token's name, and a person named in the body is recorded beside
// it ("alice via ops-console"); with auth off the body must name someone.
func (s *Server) actor(c *gin.Context, named string) (string, bool) {
	named = strings.TrimSpace(named)
	if s.opts.Auth.Enabled {
		p := principal(c)
		if named == "" || named == p.Name {
			return p.Name, true
		}
		return named + " via " + p.Name, true
	}
	if named == "" {
		abortProblem(c, http.StatusBadRequest, "actor: required (who makes the change, for the audit trail)", nil)
		return "", false
	}
	return named, true
}

// commentTicket answers POST /api/v1/tickets/{id}/comments with
// {"text": "…", "actor": "alice"}: a work note in the ticket's history.
func (s *Server) commentTicket(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, ok := idParam(c, "ticket row_id")
	if !ok {
		return
	}
	setAuditTarget(c, fmt.Sprintf("ticket %d", id))
	var req struct {
		Text  string `json:"text"`
		Actor string `json:"actor"`
	}
	if !decodeBody(c, &req, 64<<10) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" || len(req.Text) > 10000 {
		abortProblem(c, http.StatusBadRequest, "text: required, at most 10000 bytes", nil)
		return
	}
	actor, ok := s.actor(c, req.Actor)
	if !ok {
		return
	}
	a, err := s.opts.Incidents.Comment(c.Request.Context(), id, actor, req.Text, s.opts.Now())
	if err != nil {
		s.stateError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"row_id": id, "version": a.Version, "at": a.At, "actor": a.Actor, "text": a.Reason})
}

// ticketComments answers GET /api/v1/tickets/{id}/comments: the work
// notes, oldest first.
func (s *Server) ticketComments(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, h, ok := s.ticketTrail(c)
	if !ok {
		return
	}
	type comment struct {
		Version int64  `json:"version"`
		At      any    `json:"at"`
		Actor   string `json:"actor"`
		Text    string `json:"text"`
	}
	out := []comment{}
	for _, a := range h {
		if a.Action == "comment" {
			out = append(out, comment{a.Version, a.At, a.Actor, a.Reason})
		}
	}
	c.JSON(http.StatusOK, gin.H{"row_id": id, "comments": out})
}

// applyTransition moves ticket rowID to state to and answers with the
// ticket (409 when the lifecycle does not allow the move).
func (s *Server) applyTransition(c *gin.Context, rowID int64, to ticket.State, actor, reason string) {
	t, err := s.opts.Incidents.Transition(c.Request.Context(), rowID, to, actor, reason, s.opts.Now())
	if err != nil {
		if errors.Is(err, ticket.ErrTransition) {
			abortProblem(c, http.StatusConflict, err.Error(), nil)
			return
		}
		s.stateError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.ticketView(rowID, t))
}

// deadLetters answers GET /api/v1/deliveries/dead: webhook deliveries that
// gave up (after their last attempt, or permanently refused).
func (s *Server) deadLetters(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	limit, err := intParam(c, "limit", 100, 1, 1000)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	dl, err := s.opts.State.DeadLetters(c.Request.Context(), limit)
	if err != nil {
		s.stateError(c, err)
		return
	}
	type item struct {
		JobID       int64    `json:"job_id"`
		State       string   `json:"state"`
		TicketRowID int64    `json:"ticket_row_id"`
		Version     int64    `json:"version"`
		Event       string   `json:"event"`
		Target      string   `json:"target"`
		Key         string   `json:"idempotency_key"`
		Attempts    int      `json:"attempts"`
		Errors      []string `json:"errors"`
		CreatedAt   any      `json:"created_at"`
		FinalizedAt any      `json:"finalized_at"`
	}
	out := make([]item, len(dl))
	for i, d := range dl {
		out[i] = item{d.JobID, string(d.State), d.Delivery.TicketID, d.Delivery.Version, d.Delivery.Event, d.Delivery.Target,
			d.Delivery.IdempotencyKey, d.Attempts, d.Errors, d.CreatedAt, d.FinalizedAt}
	}
	c.JSON(http.StatusOK, gin.H{"dead_letters": out})
}

// retryDeadLetter answers POST /api/v1/deliveries/{id}/retry.
func (s *Server) retryDeadLetter(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	id, ok := idParam(c, "job_id")
	if !ok {
		return
	}
	if err := s.opts.State.RetryDeadLetter(c.Request.Context(), id); err != nil {
		if errors.Is(err, state.ErrNotDeadLetter) {
			abortProblem(c, http.StatusConflict, err.Error(), nil)
			return
		}
		s.stateError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"job_id": id, "status": "queued"})
}

func (s *Server) stateError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, state.ErrNotFound):
		abortProblem(c, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, state.ErrConflict):
		abortProblem(c, http.StatusConflict, err.Error()+" (changed meanwhile: read it again and retry)", nil)
	case errors.Is(err, context.DeadlineExceeded):
		abortProblem(c, http.StatusServiceUnavailable, err.Error(), nil)
	default:
		s.log.Error("state store call failed", "err", err, "request_id", c.GetString(requestIDKey))
		abortProblem(c, http.StatusInternalServerError, "state store error", nil)
	}
}

// listRuns answers GET /api/v1/runs?job=disk&limit=: recorded runs of
// the periodic jobs, newest first.
func (s *Server) listRuns(c *gin.Context) {
	if !s.ticketsEnabled(c) {
		return
	}
	limit, err := intParam(c, "limit", 50, 1, 1000)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	runs, err := s.opts.State.ListRuns(c.Request.Context(), c.Query("job"), limit)
	if err != nil {
		s.stateError(c, err)
		return
	}
	type run struct {
		ID          int64  `json:"id"`
		Job         string `json:"job"`
		StartedAt   any    `json:"started_at"`
		FinishedAt  any    `json:"finished_at,omitempty"`
		Predictions int    `json:"predictions"`
		Failures    int    `json:"failures"`
		Error       string `json:"error,omitempty"`
	}
	out := make([]run, len(runs))
	for i, r := range runs {
		var fin any
		if !r.FinishedAt.IsZero() {
			fin = r.FinishedAt
		}
		out[i] = run{r.ID, r.Job, r.StartedAt, fin, r.Series, r.Failures, r.Error}
	}
	c.JSON(http.StatusOK, gin.H{"runs": out})
}
