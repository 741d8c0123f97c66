package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// responseCache keeps whole answers of expensive reads (a forecast fitted
// on request, a filtered predictions list) for a short time, and lets
// concurrent identical requests share one computation: 200 dashboards
// opening the same panel fit the model once, not 200 times.
type responseCache struct {
	lru   *expirable.LRU[string, cachedResponse]
	group singleflight.Group
}

type cachedResponse struct {
	status int
	header http.Header
	body   []byte
}

// newResponseCache makes a cache of at most size answers, each kept for at
// most a minute (the callers' keys say what else invalidates them).
func newResponseCache(size int, _ func() time.Time) *responseCache {
	return &responseCache{lru: expirable.NewLRU[string, cachedResponse](size, nil, time.Minute)}
}

// captureWriter tees the body of the answer being computed.
type captureWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) WriteString(s string) (int, error) {
	w.buf.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// serve answers c from the cache under key, or runs compute (which writes
// the answer to c as usual) once for all concurrent requests with that key.
// Only 200 answers are kept; errors are recomputed next time. It reports
// whether the answer came from the cache (X-Cache: hit|shared|miss).
func (rc *responseCache) serve(c *gin.Context, key string, compute func(c *gin.Context)) {
	if r, ok := rc.lru.Get(key); ok {
		c.Header("X-Cache", "hit")
		writeCached(c, r)
		return
	}
	leader := false
	v, _, shared := rc.group.Do(key, func() (any, error) {
		leader = true
		cw := &captureWriter{ResponseWriter: c.Writer}
		c.Writer = cw
		c.Header("X-Cache", "miss")
		compute(c)
		c.Writer = cw.ResponseWriter
		r := cachedResponse{status: cw.Status(), header: cw.Header().Clone(), body: cw.buf.Bytes()}
		if r.status == http.StatusOK {
			rc.lru.Add(key, r)
		}
		return r, nil
	})
	if leader {
		return
	}
	_ = shared
	c.Header("X-Cache", "shared")
	writeCached(c, v.(cachedResponse))
}

func writeCached(c *gin.Context, r cachedResponse) {
	for k, vs := range r.header {
		switch k {
		case RequestIDHeader, "X-Cache", "Content-Encoding", "Content-Length", "Vary":
			// Per-request headers: the ID is this request's, and the gzip
			// middleware, which sits outside the cache, sets its own.
			continue
		}
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	c.Status(r.status)
	_, _ = c.Writer.Write(r.body)
	if r.status >= 400 {
		c.Abort()
	}
}
