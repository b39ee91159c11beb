package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAccountBodiesUnsupportedType: the two routes that take a body of
// accounts answer one of another type with 415 and, each in its own words,
// the types it takes; only the import reads ?encoding=.
func TestAccountBodiesUnsupportedType(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	for path, want := range map[string]string{
		"/v1/accounts": `Content-Type \"application/xml\": send application/json (an array or NDJSON), application/x-ndjson or text/csv"`,
		"/v1/forecast": `Content-Type \"application/xml\": send the accounts as application/json (an array or NDJSON) or text/csv"`,
	} {
		code, body := b.do(t, "operator", "POST", path, "application/xml", "<a/>")
		require.Equal(t, http.StatusUnsupportedMediaType, code, body)
		require.Contains(t, body, want, path)
	}
	code, body := b.do(t, "operator", "POST", "/v1/accounts?encoding=ebcdic", "text/csv", "id\n")
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `"field":"encoding"`)
	code, body = b.do(t, "operator", "POST", "/v1/forecast?encoding=ebcdic", "application/json", "[]")
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "no accounts: the body holds none", "the forecast does not read ?encoding=")
}
