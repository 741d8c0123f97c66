// Package web is Foresight's built-in console: static pages embedded in the
// binary that call the REST API with the user's token. The sources are in
// src/ and the built assets in dist/ (see README.md).
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// securityHeaders keep the console's pages to their own scripts and styles
// and the API of the server that serves them.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

// Handler serves the console's files (index.html for unknown paths under
// the console, so client-side routes work on reload).
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		// A path without an extension that names no file is a page of the
		// console: answer with the app. A missing asset stays a 404, so a
		// stale script name never gets HTML back.
		if name != "" && path.Ext(name) == "" {
			if _, err := fs.Stat(sub, name); err != nil {
				r = r.Clone(r.Context())
				r.URL.Path = "/"
				r.URL.RawPath = ""
			}
		}
		files.ServeHTTP(w, r)
	})
}
