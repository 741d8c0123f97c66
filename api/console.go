package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/seed-f1b503aa/foresight/web"
)

var consoleHandler = http.StripPrefix("/ui", web.Handler())

// console serves the embedded web console under /ui/.
func (s *Server) console(c *gin.Context) {
	if strings.HasSuffix(c.Request.URL.Path, ".html") || strings.HasSuffix(c.Request.URL.Path, "/") {
		c.Header("Cache-Control", "no-cache")
	} else {
		c.Header("Cache-Control", "public, max-age=3600")
	}
	consoleHandler.ServeHTTP(c.Writer, c.Request)
}
