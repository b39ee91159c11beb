// Package logmask keeps borrowers' phone numbers and email addresses out of
// logs: Handler wraps any slog.Handler and masks them, as channels.Mask does,
// in the message and in every attribute value before the wrapped handler
// writes the record.
package logmask

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/nudgehq/nudge/channels"
)

// Handler is a slog.Handler that masks phone numbers and email addresses in
// messages and attribute values (strings, errors, Stringers, byte slices and
// any value whose JSON form carries one) and passes the record on.
type Handler struct {
	next slog.Handler
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler writing through next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle masks the record's message and attributes and hands it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs returns a Handler whose wrapped handler carries attrs, masked.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked)}
}

// WithGroup returns a Handler whose wrapped handler opens group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}

// maskAttr masks one attribute's value, descending into groups.
func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]slog.Attr, len(group))
		for i, g := range group {
			masked[i] = maskAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: maskAny(v.Any())}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// maskAny masks a value of kind Any. Errors, Stringers and byte slices
// become their masked text; any other value is kept as it is unless its JSON
// form carries a phone number or email address, in which case the masked
// JSON text replaces it.
func maskAny(x any) slog.Value {
	switch t := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(String(t.Error()))
	case json.RawMessage:
		return slog.StringValue(String(string(t)))
	case []byte:
		return slog.StringValue(String(string(t)))
	case fmt.Stringer:
		return slog.StringValue(String(t.String()))
	}
	b, err := json.Marshal(x)
	if err != nil {
		s := fmt.Sprintf("%+v", x)
		return slog.StringValue(String(s))
	}
	if masked := String(string(b)); masked != string(b) {
		return slog.StringValue(masked)
	}
	return slog.AnyValue(x)
}

// emailPattern matches an email address.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// phoneCandidate matches a run of digits that may be a phone number: an
// optional +, an optional opening parenthesis, then digits separated by
// single spaces, dots, dashes or parentheses. String checks what it found.
var phoneCandidate = regexp.MustCompile(`\+?\(?[0-9](?:[0-9]|[ .\-()]{1,2}[0-9])*`)

// isoDate and dottedQuad match digit runs that are not phone numbers.
var (
	isoDate    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	dottedQuad = regexp.MustCompile(`^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$`)
)

// Phone numbers have at most 15 digits (E.164); an international number at
// least 8, a national one at least 10 (shorter runs are counts, amounts,
// years and ids).
const (
	maxPhoneDigits         = 15
	minInternationalDigits = 8
	minNationalDigits      = 10
)

// String returns s with every email address and phone number masked as
// channels.Mask masks them: an email keeps its first letter and domain
// (a***@example.com), an international number its country code and last two
// digits (+1*********23), a national one its separators and last two digits
// ((***) ***-**23).
func String(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllStringFunc(s, channels.Mask)
	}
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	locs := phoneCandidate.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		start, end := loc[0], loc[1]
		if start > 0 && isWordByte(s[start-1]) || end < len(s) && isWordByte(s[end]) {
			continue // part of an identifier, a hash or a longer word
		}
		// A trailing parenthesis or separator belongs to the text around it.
		for end > start && strings.IndexByte(" .-()", s[end-1]) >= 0 {
			end--
		}
		masked, ok := maskRun(s[start:end])
		if !ok {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(masked)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskRun masks a digit run that is a phone number, or, when the run is
// several numbers side by side ("2026-06-01 2125550123"), each of its
// space-separated parts that is one.
func maskRun(m string) (string, bool) {
	if masked, ok := maskPhone(m); ok {
		return masked, true
	}
	parts := strings.Split(m, " ")
	if len(parts) == 1 {
		return "", false
	}
	changed := false
	for i, p := range parts {
		if masked, ok := maskPhone(strings.Trim(p, ".-()")); ok {
			parts[i] = strings.Replace(p, strings.Trim(p, ".-()"), masked, 1)
			changed = true
		}
	}
	return strings.Join(parts, " "), changed
}

// maskPhone masks m when it looks like a phone number.
func maskPhone(m string) (string, bool) {
	digits := 0
	for i := 0; i < len(m); i++ {
		if m[i] >= '0' && m[i] <= '9' {
			digits++
		}
	}
	international := strings.HasPrefix(m, "+")
	switch {
	case digits > maxPhoneDigits:
		return "", false
	case international && digits < minInternationalDigits:
		return "", false
	case !international && digits < minNationalDigits:
		return "", false
	case isoDate.MatchString(m), dottedQuad.MatchString(m):
		return "", false
	}
	if international {
		compact := make([]byte, 0, digits+1)
		compact = append(compact, '+')
		for i := 1; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				compact = append(compact, m[i])
			}
		}
		return channels.Mask(string(compact)), true
	}
	out := []byte(m)
	seen := 0
	for i := range out {
		if out[i] >= '0' && out[i] <= '9' {
			seen++
			if seen <= digits-2 {
				out[i] = '*'
			}
		}
	}
	return string(out), true
}

// isWordByte reports whether c continues an identifier next to a digit run.
func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
