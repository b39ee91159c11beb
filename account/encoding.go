package account

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Encoding is the character encoding of a CSV account file. JSON and
// NDJSON are always UTF-8 (RFC 8259).
type Encoding string

// The encodings a CSV account file may be in.
const (
	// UTF8 is the default, and what "CSV UTF-8" in a spreadsheet writes.
	UTF8 Encoding = "utf-8"
	// Latin1 is ISO 8859-1.
	Latin1 Encoding = "latin1"
	// Windows1252 is what Excel writes as plain "CSV" in western locales:
	// Latin-1 plus €, curly quotes and a few more in 0x80-0x9F.
	Windows1252 Encoding = "windows-1252"
	// GB18030 is what Excel writes as plain "CSV" in mainland China.
	GB18030 Encoding = "gb18030"
)

// Encodings lists every Encoding, the default first.
var Encodings = []Encoding{UTF8, Latin1, Windows1252, GB18030}

// encodingHint ends the message of a cell that is not valid UTF-8.
const encodingHint = "if the file is not UTF-8, give its encoding (encoding=latin1, windows-1252 or gb18030)"

// ParseEncoding reads the name of an encoding, ignoring case and accepting
// the usual aliases (utf8, iso-8859-1, latin-1, cp1252). An
// empty name is UTF-8.
func ParseEncoding(name string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return UTF8, nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1":
		return Latin1, nil
	case "windows-1252", "cp1252", "windows1252":
		return Windows1252, nil
	case "gb18030":
		return GB18030, nil
	}
	return "", fmt.Errorf("%s is not an encoding Nudge reads (want utf-8, latin1, windows-1252 or gb18030)", quote(name))
}

// encodingFor picks the encoding of an import: enc when given, else the
// charset parameter of contentType, else UTF-8. A charset that disagrees
// with enc, or an encoding other than UTF-8 for JSON, is a problem of the
// whole file.
func encodingFor(contentType, format string, enc Encoding) (Encoding, *Problem) {
	var charset Encoding
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		c, err := ParseEncoding(params["charset"])
		if err != nil {
			return "", &Problem{Message: "Content-Type charset: " + err.Error()}
		}
		charset = c
	}
	if enc != "" {
		e, err := ParseEncoding(string(enc))
		if err != nil {
			return "", &Problem{Message: "encoding: " + err.Error()}
		}
		if charset != "" && charset != e {
			return "", &Problem{Message: fmt.Sprintf("the encoding %s disagrees with the Content-Type charset %s", e, charset)}
		}
		charset = e
	}
	if charset == "" {
		charset = UTF8
	}
	if format != ContentTypeCSV && charset != UTF8 {
		return "", &Problem{Message: fmt.Sprintf("JSON and NDJSON are always UTF-8, not %s; the encoding applies to CSV only", charset)}
	}
	return charset, nil
}

// cellDecoder turns one cell of a CSV file into UTF-8. It answers the text
// and, when the cell is not valid in the encoding, what is wrong (and the
// text with the bad bytes replaced by U+FFFD).
type cellDecoder func(s string) (string, string)

// decoder returns the cell decoder of e.
func (e Encoding) decoder() cellDecoder {
	var dec *encoding.Decoder
	switch e {
	case Latin1:
		dec = charmap.ISO8859_1.NewDecoder()
	case Windows1252:
		dec = charmap.Windows1252.NewDecoder()
	case GB18030:
		dec = simplifiedchinese.GB18030.NewDecoder()
	default:
		return func(s string) (string, string) {
			if msg := utf8Problem(s); msg != "" {
				return strings.ToValidUTF8(s, "\uFFFD"), msg + ": " + encodingHint
			}
			return s, ""
		}
	}
	return func(s string) (string, string) {
		if isASCII(s) {
			return s, "" // every supported encoding extends ASCII
		}
		out, err := dec.String(s)
		if err != nil {
			return strings.ToValidUTF8(s, "\uFFFD"), fmt.Sprintf("is not valid %s: %v", e, err)
		}
		// The decoders write U+FFFD for a byte the encoding does not
		// define; only GB18030 can also encode U+FFFD itself.
		if got := strings.Count(out, "\uFFFD"); got > 0 && (e != GB18030 || got > bytes.Count([]byte(s), gb18030Replacement)) {
			return out, fmt.Sprintf("is not valid %s text%s", e, undefinedByte(e, s))
		}
		return out, ""
	}
}

// gb18030Replacement is U+FFFD in GB18030.
var gb18030Replacement = []byte{0x84, 0x31, 0xA4, 0x37}

// undefinedByte names the first byte Windows-1252 leaves undefined in s.
func undefinedByte(e Encoding, s string) string {
	if e != Windows1252 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			return fmt.Sprintf(" (byte 0x%02X at byte %d is not a character)", s[i], i+1)
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
