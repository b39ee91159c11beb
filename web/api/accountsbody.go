package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/nudgehq/nudge/account"
)

// errReader remembers the first read error other than io.EOF, so a body cut
// by the size limit is told apart from a bad document.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// accountsBody is how a route reads a body of accounts (a JSON array,
// NDJSON or CSV, as POST /v1/accounts takes).
type accountsBody struct {
	// accepted ends the 415 answer "Content-Type %q: " to a body of
	// another type: the types the route takes, in its words.
	accepted string
	// encoded is whether ?encoding= names a CSV body's character set.
	encoded bool
}

// parse reads the call's body: its rows for the key's lender, the problems
// of the rows that cannot be read or are not the lender's, and the encoding
// the query named. A body cut by the size limit is returned as the
// *http.MaxBytesError (413).
func (b accountsBody) parse(c *call) ([]account.Parsed, account.Problems, account.Encoding, error) {
	ct := c.r.Header.Get("Content-Type")
	if !account.Supported(ct) {
		return nil, nil, "", errorf(http.StatusUnsupportedMediaType, "Content-Type %q: %s", ct, b.accepted)
	}
	var enc account.Encoding
	if v := c.r.URL.Query().Get("encoding"); b.encoded && v != "" {
		var err error
		if enc, err = account.ParseEncoding(v); err != nil {
			return nil, nil, "", &apiError{status: http.StatusBadRequest, msg: "invalid encoding",
				problems: []problemJSON{{Field: "encoding", Message: err.Error()}}}
		}
	}
	body := &errReader{r: c.r.Body}
	parsed, ps := account.ParseRowsEncoded(body, ct, enc)
	if body.err != nil {
		var mbe *http.MaxBytesError
		if errors.As(body.err, &mbe) {
			return nil, nil, "", body.err
		}
		return nil, nil, "", errorf(http.StatusBadRequest, "reading the body: %v", body.err)
	}
	rows, ps := account.ForLenderRows(parsed, c.lender(), ps)
	return rows, ps, enc, nil
}

// importBody and forecastBody are the bodies of POST /v1/accounts and
// POST /v1/forecast.
var (
	importBody = accountsBody{encoded: true,
		accepted: "send " + account.ContentTypeJSON + " (an array or NDJSON), " + account.ContentTypeNDJSON + " or " + account.ContentTypeCSV}
	forecastBody = accountsBody{
		accepted: "send the accounts as " + account.ContentTypeJSON + " (an array or NDJSON) or " + account.ContentTypeCSV}
)
