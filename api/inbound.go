package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/engine/ticket"
	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// inboundTolerance is how old a signed inbound request may be.
const inboundTolerance = 5 * time.Minute

// inboundTicketHook answers POST /api/v1/hooks/tickets: an external ticketing
// system (ServiceNow, Jira Service Management, an ITSM suite) reports a
// lifecycle change of a Foresight ticket. The body is
// {"ticket_id": "TKT-…" | "row_id": 12 | "fingerprint": "disk:host=…", "to": "in_progress",
// "actor": "itsm:alice", "reason": "…"}; it must be signed like Foresight's
// own generic webhooks: headers X-Foresight-Timestamp (Unix seconds) and
// X-Foresight-Signature = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body),
// with the secret in server.inbound_secret. Unsigned, stale or wrongly
// signed requests get 401; the hook is off (404) without a secret.
func (s *Server) inboundTicketHook(c *gin.Context) {
	if s.opts.InboundSecret == "" {
		abortProblem(c, http.StatusNotFound, "the inbound ticket hook is off: set server.inbound_secret", nil)
		return
	}
	if !s.ticketsEnabled(c) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err != nil {
		abortProblem(c, http.StatusRequestEntityTooLarge, "body over 64 KiB", nil)
		return
	}
	err = notify.Verify(s.opts.InboundSecret, c.GetHeader("X-Foresight-Timestamp"), c.GetHeader("X-Foresight-Signature"), body, s.opts.Now(), inboundTolerance)
	if err != nil {
		abortProblem(c, http.StatusUnauthorized, "signature: "+err.Error(), nil)
		return
	}
	var req struct {
		TicketID    string `json:"ticket_id"`
		RowID       int64  `json:"row_id"`
		Fingerprint string `json:"fingerprint"`
		To          string `json:"to"`
		Actor       string `json:"actor"`
		Reason      string `json:"reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		abortProblem(c, http.StatusBadRequest, "request body: "+jsonErrorDetail(err), nil)
		return
	}
	to, err := ticket.ParseState(req.To)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, "to: "+err.Error(), nil)
		return
	}
	actor := strings.TrimSpace(req.Actor)
	if actor == "" {
		actor = "external"
	}
	rowID, err := s.findTicket(c, req.RowID, req.TicketID, req.Fingerprint)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			abortProblem(c, http.StatusNotFound, err.Error(), nil)
			return
		}
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	setAuditTarget(c, fmt.Sprintf("ticket %d", rowID))
	setAuditDetail(c, "to "+string(to)+" by "+actor)
	s.applyTransition(c, rowID, to, actor, req.Reason)
}

// findTicket resolves a row id, a ticket id or a fingerprint to a row id.
func (s *Server) findTicket(c *gin.Context, rowID int64, ticketID, fingerprint string) (int64, error) {
	switch {
	case rowID > 0:
		return rowID, nil
	case fingerprint != "":
		recs, err := s.opts.State.ListTickets(c.Request.Context(), state.TicketFilter{Fingerprint: fingerprint, Sort: "-opened_at", Limit: 1})
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			return 0, fmt.Errorf("fingerprint %q: %w", fingerprint, state.ErrNotFound)
		}
		return recs[0].ID, nil
	case ticketID != "":
		// The ticket id is in the body; scan the most recent tickets.
		for offset := 0; offset < 100000; offset += 1000 {
			recs, err := s.opts.State.ListTickets(c.Request.Context(), state.TicketFilter{Sort: "-id", Limit: 1000, Offset: offset})
			if err != nil {
				return 0, err
			}
			for _, r := range recs {
				var head struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(r.BodyJSON, &head) == nil && head.ID == ticketID {
					return r.ID, nil
				}
			}
			if len(recs) < 1000 {
				break
			}
		}
		return 0, fmt.Errorf("ticket %q: %w", ticketID, state.ErrNotFound)
	}
	return 0, errors.New("name the ticket: row_id, ticket_id or fingerprint")
}
