package account

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/nudgehq/nudge"
)

// MaxDocumentSize is the largest single account document accepted, in bytes.
const MaxDocumentSize = 1 << 20

// Parse reads one account document, rejecting unknown fields, and normalises it.
// Every problem is returned in a Problems error.
func Parse(data []byte) (nudge.Account, error) {
	a, ps := decodeOne(data, 0)
	if len(ps) > 0 {
		return nudge.Account{}, ps
	}
	return a, nil
}

// ParseMany reads a JSON array of account documents or NDJSON (one document a
// line) and normalises each. It returns the good accounts and every problem,
// each naming its row (the 1-based position in the array, or the line number).
func ParseMany(r io.Reader) ([]nudge.Account, Problems) {
	return ParseAny(r, ContentTypeJSON)
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
		default:
			return b[0], nil
		}
	}
}

// parseJSONRows reads a JSON array of documents or NDJSON. It returns the
// good accounts with their rows, the key of every row whose lender and id
// could be read (good or not), and every problem.
func parseJSONRows(r io.Reader) ([]Parsed, []rowKey, Problems) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := peekNonSpace(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, Problems{{Message: "no accounts: the input is empty"}}
		}
		return nil, nil, Problems{{Message: err.Error()}}
	}
	var (
		out  []Parsed
		keys []rowKey
		ps   Problems
	)
	add := func(raw []byte, row int) {
		if len(raw) > MaxDocumentSize {
			ps = append(ps, oversized(bytes.NewReader(raw), row))
			return
		}
		a, p := decodeOne(raw, row)
		keys = appendKey(keys, row, a)
		if len(p) > 0 {
			ps = append(ps, p...)
			return
		}
		out = append(out, Parsed{Row: row, Account: a})
	}
	if first == '[' {
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return nil, nil, Problems{{Message: fmt.Sprintf("reading the array: %v", err)}}
		}
		for row := 1; dec.More(); row++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				ps = append(ps, Problem{Row: row, Message: fmt.Sprintf("invalid JSON: %v", err)})
				return out, keys, ps
			}
			add(raw, row)
		}
		return out, keys, ps
	}
	for row := 1; ; row++ {
		line, long, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return out, keys, ps
		}
		if err != nil {
			ps = append(ps, Problem{Row: row, Message: fmt.Sprintf("reading: %v", err)})
			return out, keys, ps
		}
		if long {
			rest := &lineRest{br: br}
			ps = append(ps, oversized(io.MultiReader(bytes.NewReader(line), rest), row))
			if rest.err != nil {
				ps = append(ps, Problem{Row: row, Message: fmt.Sprintf("reading: %v", rest.err)})
				return out, keys, ps
			}
			continue
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			add(line, row)
		}
	}
}

// readLine reads the next line of br without its line break. A line longer
// than MaxDocumentSize is not read whole: long is true, line is its start
// and the rest is left in br.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(line) > MaxDocumentSize {
				return line, true, nil
			}
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, false, nil
		default:
			return line, false, err
		}
	}
}

// lineRest reads what is left of the current line of br, and its line break.
type lineRest struct {
	br      *bufio.Reader
	pending []byte
	done    bool
	// err is the first read error other than the end of the input.
	err error
}

func (l *lineRest) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.done {
			return 0, io.EOF
		}
		chunk, err := l.br.ReadSlice('\n')
		switch {
		case err == nil:
			chunk, l.done = chunk[:len(chunk)-1], true
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			l.done = true
		default:
			l.done, l.err = true, err
		}
		l.pending = append(l.pending[:0], chunk...)
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// oversized is the problem of a document larger than MaxDocumentSize,
// read from r to its end (a token at a time, never whole) to find its
// longest value, which is almost always the reason.
func oversized(r io.Reader, row int) Problem {
	cr := &countReader{r: r}
	scan := scanJSON(cr)
	_, _ = io.Copy(io.Discard, cr) // the rest, to count it; a read error is the caller's to report
	if scan.longField == "" {
		return Problem{Row: row, Message: fmt.Sprintf("the account document is %d bytes, larger than the limit of %d", cr.n, MaxDocumentSize)}
	}
	return Problem{Row: row, Field: scan.longField, Message: fmt.Sprintf("is %d characters long, which makes the account document %d bytes, larger than the limit of %d",
		scan.longLen, cr.n, MaxDocumentSize)}
}

// document is the account document as decoded: the fields whose own
// decoding errors would not name them are read raw and decoded one by one.
type document struct {
	nudge.Account
	DueDate json.RawMessage   `json:"due_date"`
	Holds   []json.RawMessage `json:"holds"`
}

// embeddedPrefix is what encoding/json puts before the path of a field of
// document's embedded Account.
const embeddedPrefix = "Account."

func decodeOne(data []byte, row int) (nudge.Account, Problems) {
	var ps Problems
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Row: row, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	// Strings encoding/json would silently change are reported first.
	reported := map[string]bool{}
	if !utf8.Valid(data) || hasSurrogateEscape(data) {
		for _, p := range scanJSON(bytes.NewReader(data)).bad {
			bad(p.Field, "%s", p.Message)
			reported[p.Field] = true
		}
	}

	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		field := jsonErrorField(err)
		var se *json.SyntaxError
		if field == "" && errors.As(err, &se) {
			field = scanJSON(bytes.NewReader(data)).syntaxField
		}
		if !reported[field] || field == "" {
			bad(field, "%s", jsonErrorMessage(err))
		}
		return doc.Account, ps
	}
	if dec.More() {
		bad("", "unexpected data after the account document")
		return doc.Account, ps
	}
	a := doc.Account
	if d := bytes.TrimSpace(doc.DueDate); len(d) > 0 && string(d) != "null" && !reported["due_date"] {
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			bad("due_date", "want a date string like \"2026-06-01\", got %s", jsonKind(d))
			reported["due_date"] = true
		} else if s != "" {
			date, err := nudge.ParseDate(s)
			if err != nil {
				bad("due_date", "%s is not a date like 2026-06-01", quote(s))
				reported["due_date"] = true
			}
			a.DueDate = date
		}
	}
	if doc.Holds != nil {
		a.Holds = make([]nudge.Hold, 0, len(doc.Holds))
	}
	for i, raw := range doc.Holds {
		var h nudge.Hold
		if err := json.Unmarshal(raw, &h); err != nil {
			field := fmt.Sprintf("holds[%d]", i)
			if _, f, ok := strings.Cut(err.Error(), "json: unknown field "); ok {
				bad(field+"."+strings.Trim(f, `"`), "unknown field")
			} else {
				bad(field, "want a hold kind like \"dispute\" or {\"kind\": \"dispute\", \"reason\": \"…\"}, got %s", jsonKind(raw))
			}
			reported[field] = true
		}
		a.Holds = append(a.Holds, h)
	}
	for _, p := range Normalize(&a) {
		if reported[p.Field] {
			continue // already reported, from what the document said
		}
		p.Row = row
		ps = append(ps, p)
	}
	return a, ps
}

// hasSurrogateEscape reports whether data holds a \u escape of a UTF-16
// surrogate (\uD800-\uDFFF), which may be unpaired.
func hasSurrogateEscape(data []byte) bool {
	for {
		i := bytes.Index(data, []byte(`\u`))
		if i < 0 || i+3 >= len(data) {
			return false
		}
		if c, d := data[i+2], data[i+3]; (c == 'd' || c == 'D') && strings.IndexByte("89abcdefABCDEF", d) >= 0 {
			return true
		}
		data = data[i+2:]
	}
}

// jsonKind names the kind of a JSON value for a message.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a JSON string"
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	}
	return "a JSON number"
}

func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return strings.TrimPrefix(te.Field, embeddedPrefix)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(f, `"`)
	}
	return ""
}

func jsonErrorMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "unknown field"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
