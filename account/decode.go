package account

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

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
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := peekNonSpace(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{Message: "no accounts: the input is empty"}}
		}
		return nil, Problems{{Message: err.Error()}}
	}
	if first == '[' {
		return parseArray(br)
	}
	return parseLines(br)
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

func parseArray(r io.Reader) ([]nudge.Account, Problems) {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return nil, Problems{{Message: fmt.Sprintf("reading the array: %v", err)}}
	}
	var out []nudge.Account
	var ps Problems
	for row := 1; dec.More(); row++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			ps = append(ps, Problem{Row: row, Message: fmt.Sprintf("invalid JSON: %v", err)})
			return out, ps
		}
		a, p := decodeOne(raw, row)
		if len(p) > 0 {
			ps = append(ps, p...)
			continue
		}
		out = append(out, a)
	}
	return out, ps
}

func parseLines(r io.Reader) ([]nudge.Account, Problems) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxDocumentSize)
	var out []nudge.Account
	var ps Problems
	row := 0
	for sc.Scan() {
		row++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		a, p := decodeOne(line, row)
		if len(p) > 0 {
			ps = append(ps, p...)
			continue
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		ps = append(ps, Problem{Row: row + 1, Message: fmt.Sprintf("reading: %v", err)})
	}
	return out, ps
}

func decodeOne(data []byte, row int) (nudge.Account, Problems) {
	var a nudge.Account
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, Problems{{Row: row, Field: jsonErrorField(err), Message: jsonErrorMessage(err)}}
	}
	if dec.More() {
		return a, Problems{{Row: row, Message: "unexpected data after the account document"}}
	}
	ps := Normalize(&a)
	for i := range ps {
		ps[i].Row = row
	}
	return a, ps
}

func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
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
