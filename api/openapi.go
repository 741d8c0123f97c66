package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

// openapiYAML is the hand-written OpenAPI 3 document; a test checks that it
// lists exactly the routes the router has, with the same roles.
//
//go:embed openapi.yaml
var openapiYAML []byte

// openapiJSON is the document as JSON, served at /openapi.json.
var openapiJSON = mustJSON(openapiYAML)

func mustJSON(y []byte) []byte {
	var doc any
	if err := yaml.Unmarshal(y, &doc); err != nil {
		panic(fmt.Sprintf("api: openapi.yaml: %v", err))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("api: openapi.yaml as JSON: %v", err))
	}
	return b
}

// OpenAPI returns the OpenAPI 3 document as JSON.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openapiJSON)
}
