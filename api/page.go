package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
)

// setPage adds the pagination headers of a list answer: X-Total-Count when
// the total is known (total ≥ 0), and an RFC 8288 Link to the next page
// when this one is full (n == limit) or the total says more follow.
func setPage(c *gin.Context, offset, limit, n int, total ...int) {
	more := n == limit
	if len(total) > 0 && total[0] >= 0 {
		c.Header("X-Total-Count", strconv.Itoa(total[0]))
		more = offset+n < total[0]
	}
	if !more {
		return
	}
	q := c.Request.URL.Query()
	q.Set("offset", strconv.Itoa(offset+n))
	q.Set("limit", strconv.Itoa(limit))
	u := url.URL{Path: c.Request.URL.Path, RawQuery: q.Encode()}
	c.Header("Link", "<"+u.String()+`>; rel="next"`)
}

// decodeBody decodes a JSON request body of at most limit bytes into v,
// refusing unknown fields; on failure it answers 400 and returns false.
func decodeBody(c *gin.Context, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		abortProblem(c, http.StatusBadRequest, "request body: "+jsonErrorDetail(err), nil)
		return false
	}
	return true
}

// pageParams reads limit (default def, at most max) and offset; on a bad
// value it answers 400 and returns false.
func pageParams(c *gin.Context, def, max int) (limit, offset int, ok bool) {
	var err error
	if limit, err = intParam(c, "limit", def, 1, max); err == nil {
		offset, err = intParam(c, "offset", 0, 0, 1<<30)
	}
	if err != nil {
		abortProblem(c, http.StatusBadRequest, err.Error(), nil)
		return 0, 0, false
	}
	return limit, offset, true
}
