package api

import (
	_ "embed" // the OpenAPI document is embedded
	"net/http"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3 document of the lender API, the one
// served at OpenAPIPath.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

func (a *API) openAPI(c *call) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, err := c.w.Write(openAPIDocument)
	return err
}
