package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Problem is an RFC 7807 problem document. Extra members carry details
// such as the rejected lines of a write.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Extra     map[string]any `json:"-"`
}

// problemDetailKey keeps a problem's detail for the audit record.
const problemDetailKey = "problem_detail"

// problemContentType is the media type of RFC 7807 documents.
const problemContentType = "application/problem+json"

// abortProblem writes a problem document and stops the handler chain.
func abortProblem(c *gin.Context, status int, detail string, extra map[string]any) {
	body := map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
	}
	if detail != "" {
		body["detail"] = detail
	}
	body["instance"] = c.Request.URL.Path
	c.Set(problemDetailKey, detail)
	if id, ok := c.Get(requestIDKey); ok {
		body["request_id"] = id
	}
	for k, v := range extra {
		body[k] = v
	}
	c.Header("Content-Type", problemContentType)
	c.AbortWithStatusJSON(status, body)
	// AbortWithStatusJSON sets application/json; restore the problem type.
	c.Writer.Header().Set("Content-Type", problemContentType)
}
