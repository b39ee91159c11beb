package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonScan is what a walk over the tokens of a JSON document found that
// encoding/json would not say: the strings it would silently change, where
// the document stops being JSON, and its longest string.
type jsonScan struct {
	// bad are the strings (keys or values) that are not valid Unicode:
	// invalid UTF-8 or an unpaired surrogate escape, which encoding/json
	// replaces with U+FFFD.
	bad Problems
	// syntaxField is the field at which the document stops being JSON.
	syntaxField string
	// longField is the field of the longest string value, longLen its
	// length in characters.
	longField string
	longLen   int
}

// jsonFrame is one open object or array of a walk.
type jsonFrame struct {
	array   bool
	index   int    // the current element of an array
	key     string // the current key of an object
	wantKey bool
}

// replacement is U+FFFD as UTF-8.
var replacement = []byte("\uFFFD")

// scanJSON walks the JSON document in r token by token, holding no more
// than one token in memory, tracking the path of each value.
func scanJSON(r io.Reader) jsonScan {
	var (
		out   jsonScan
		stack []jsonFrame
	)
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case f.key != "":
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	// value is called when a value starts.
	value := func() {
		if n := len(stack); n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
	}
	// done is called when a value ends.
	done := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].wantKey = true
		}
	}
	// raw holds the bytes read since the last token, to check strings.
	var raw bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(r, &raw))
	dec.UseNumber()
	consumed := int64(0) // bytes of raw before its start
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			out.syntaxField = path()
			return out
		}
		end := dec.InputOffset()
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				value()
				stack = append(stack, jsonFrame{array: v == '[', index: -1, wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			src := raw.Bytes()[start-consumed : end-consumed]
			isKey := len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].wantKey
			if isKey {
				stack[len(stack)-1].key = v
				stack[len(stack)-1].wantKey = false
			} else {
				value()
			}
			if msg := jsonStringProblem(src, v); msg != "" {
				out.bad = append(out.bad, Problem{Field: path(), Message: msg})
			}
			if isKey {
				break
			}
			if n := utf8.RuneCountInString(v); n > out.longLen {
				out.longField, out.longLen = path(), n
			}
			done()
		default:
			value()
			done()
		}
		// Keep only what the next token may need.
		raw.Next(int(end - consumed))
		consumed = end
	}
}

// jsonStringProblem says what is wrong with a JSON string whose source is
// src (with what came before it since the last token) and whose decoded
// value is v, or "" when nothing is.
func jsonStringProblem(src []byte, v string) string {
	if !utf8.Valid(src) {
		for i := 0; i < len(src); {
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return fmt.Sprintf("is not valid UTF-8 (byte 0x%02X); JSON and NDJSON must be UTF-8", src[i])
			}
			i += size
		}
	}
	// encoding/json turns an unpaired surrogate escape into U+FFFD: more
	// U+FFFD in the value than the source wrote, literally or escaped.
	got := strings.Count(v, "\uFFFD")
	if got == 0 {
		return ""
	}
	lower := bytes.ToLower(src)
	want := bytes.Count(src, replacement) + bytes.Count(lower, []byte(`\ufffd`))
	if got > want {
		return "holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF), which is not a character"
	}
	return ""
}
