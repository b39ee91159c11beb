package logmask

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Leaks returns those of values (phone numbers, email addresses, names,
// hashes) that text still contains in any common encoding: as written in
// any case, URL-escaped, JSON-escaped, inside base64 (standard or URL
// alphabet, at any alignment, as in a signed token's claims), and, for a
// phone number, by its digits however they are separated (+1 415 555 0149,
// (415) 555-0149, 14155550149). Tests use it to prove that logs, links and
// stores keep no personal data.
func Leaks(text string, values ...string) []string {
	views := decodedViews(text)
	var out []string
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, view := range views {
			if contains(view, v) {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// base64Run matches text that may be base64 (either alphabet).
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_\-]{12,}={0,2}`)

// jsonEscape matches a JSON \uXXXX escape.
var jsonEscape = regexp.MustCompile(`\\u[0-9a-fA-F]{4}`)

// decodedViews returns text and what it decodes to: URL-unescaped,
// JSON-unescaped, and every base64 run decoded (then unescaped again).
func decodedViews(text string) []string {
	views := unescaped(text)
	for _, v := range append([]string(nil), views...) {
		for _, run := range base64Run.FindAllString(v, -1) {
			for _, d := range decodeBase64(run) {
				views = append(views, unescaped(d)...)
			}
		}
	}
	return views
}

// unescaped returns s, and s URL- and JSON-unescaped where that changes it.
func unescaped(s string) []string {
	out := []string{s}
	if u, err := url.QueryUnescape(s); err == nil && u != s {
		out = append(out, u)
	}
	if u, err := url.PathUnescape(s); err == nil && u != s {
		out = append(out, u)
	}
	if strings.Contains(s, `\`) {
		j := jsonEscape.ReplaceAllStringFunc(s, func(m string) string {
			r, err := strconv.ParseUint(m[2:], 16, 32)
			if err != nil {
				return m
			}
			return string(rune(r))
		})
		j = strings.NewReplacer(`\/`, `/`, `\"`, `"`, `\\`, `\`).Replace(j)
		if j != s {
			out = append(out, j)
		}
	}
	return out
}

// decodeBase64 decodes run at each of its four alignments, in either
// alphabet, keeping what decodes.
func decodeBase64(run string) []string {
	run = strings.TrimRight(run, "=")
	std := strings.NewReplacer("-", "+", "_", "/").Replace(run)
	var out []string
	for off := 0; off < 4 && off < len(std); off++ {
		s := std[off:]
		if len(s)%4 == 1 {
			s = s[:len(s)-1]
		}
		if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// phoneRun matches a run of digits with the separators phone numbers are
// written with.
var phoneRun = regexp.MustCompile(`\+?\(?[0-9][0-9 ().\-]{5,}[0-9]`)

// contains reports whether view holds v: without regard to case, or, for
// a phone number, by its national digits within one run of digits.
func contains(view, v string) bool {
	if strings.Contains(strings.ToLower(view), strings.ToLower(v)) {
		return true
	}
	digits := digitsOf(v)
	if len(digits) < 7 || !isPhoneLike(v) {
		return false
	}
	national := digits
	if len(national) > 10 {
		national = national[len(national)-10:]
	}
	for _, run := range phoneRun.FindAllString(view, -1) {
		if strings.Contains(digitsOf(run), national) {
			return true
		}
	}
	return false
}

// isPhoneLike reports whether v is written as a phone number: digits,
// spaces, parentheses, dots, dashes and a leading plus.
func isPhoneLike(v string) bool {
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9', r == ' ', r == '(', r == ')', r == '.', r == '-':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return true
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
