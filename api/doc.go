// Package api holds the OpenAPI 3.0 document of the producer API (cmd/api),
// openapi.yaml, embedded so that the server serves it byte for byte.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml as it is in the tree.
//
//go:embed openapi.yaml
var OpenAPI []byte
