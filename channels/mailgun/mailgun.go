// Package mailgun reads the messages Mailgun's inbound routes post to Nudge:
// a route whose action is forward("https://nudge.example/webhooks/mailgun/inbound")
// posts every email it matches, parsed, as a form (multipart/form-data when
// the email has attachments, application/x-www-form-urlencoded otherwise),
// signed with the domain's HTTP webhook signing key.
//
// Verify checks the signature (hex HMAC-SHA256 of timestamp and token) and
// that the timestamp is recent; ReadInbound reads the form as a stream,
// keeping the fields a reply needs and discarding attachments unread.
package mailgun

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxAge is how far a request's timestamp may be from now.
const DefaultMaxAge = 15 * time.Minute

// MaxFieldBytes bounds one text field of the form (a body, the headers).
const MaxFieldBytes = 1 << 20

// Errors of Verify and ReadInbound.
var (
	// ErrSignature: the signature is missing, malformed or wrong.
	ErrSignature = errors.New("mailgun: bad signature")
	// ErrStale: the timestamp is missing or too far from now (a replay).
	ErrStale = errors.New("mailgun: timestamp out of range")
	// ErrForm: the body is not a form Mailgun posts.
	ErrForm = errors.New("mailgun: unreadable form")
	// ErrFieldTooLarge: one text field is larger than MaxFieldBytes.
	ErrFieldTooLarge = errors.New("mailgun: field too large")
)

// Inbound is one email a route posted.
type Inbound struct {
	// Recipient is the envelope recipient (RCPT TO) the route matched.
	Recipient string
	// Sender is the envelope sender (MAIL FROM); From is the From header.
	Sender, From string
	Subject      string
	// BodyPlain is the text of the email (Mailgun makes one from HTML when
	// there is none), quoted text included.
	BodyPlain string
	// StrippedText is Mailgun's own guess at the text without the quoted
	// part and the signature.
	StrippedText string
	// MessageID is the Message-Id header, angle brackets included, or "".
	MessageID string
	// Timestamp, Token and Signature authenticate the request (Verify).
	Timestamp, Token, Signature string
}

// fields are the form fields kept; others (body-html, attachments, …) are
// read past.
var fields = map[string]func(*Inbound) *string{
	"recipient":       func(in *Inbound) *string { return &in.Recipient },
	"sender":          func(in *Inbound) *string { return &in.Sender },
	"from":            func(in *Inbound) *string { return &in.From },
	"subject":         func(in *Inbound) *string { return &in.Subject },
	"body-plain":      func(in *Inbound) *string { return &in.BodyPlain },
	"stripped-text":   func(in *Inbound) *string { return &in.StrippedText },
	"timestamp":       func(in *Inbound) *string { return &in.Timestamp },
	"token":           func(in *Inbound) *string { return &in.Token },
	"signature":       func(in *Inbound) *string { return &in.Signature },
	"message-headers": nil, // read for the Message-Id
}

// ReadInbound reads the route's form from r's body, which the caller bounds
// (http.MaxBytesReader: its error comes back wrapped). Attachments are
// discarded as they stream past.
func ReadInbound(r *http.Request) (Inbound, error) {
	var in Inbound
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return in, fmt.Errorf("%w: content type: %w", ErrForm, err)
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return in, fmt.Errorf("%w: %w", ErrForm, err)
		}
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return in, fmt.Errorf("%w: %w", ErrForm, err)
		}
		for name := range fields {
			if err := in.set(name, vals.Get(name)); err != nil {
				return in, err
			}
		}
		return in, nil
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return in, nil
			}
			if err != nil {
				return in, fmt.Errorf("%w: %w", ErrForm, err)
			}
			name := p.FormName()
			if _, keep := fields[name]; !keep || p.FileName() != "" {
				if _, err := io.Copy(io.Discard, p); err != nil {
					return in, fmt.Errorf("%w: %w", ErrForm, err)
				}
				continue
			}
			b, err := io.ReadAll(io.LimitReader(p, MaxFieldBytes+1))
			if err != nil {
				return in, fmt.Errorf("%w: %w", ErrForm, err)
			}
			if len(b) > MaxFieldBytes {
				return in, fmt.Errorf("%w: %s", ErrFieldTooLarge, name)
			}
			if err := in.set(name, string(b)); err != nil {
				return in, err
			}
		}
	}
	return in, fmt.Errorf("%w: content type %q", ErrForm, mt)
}

// set stores one field.
func (in *Inbound) set(name, value string) error {
	if len(value) > MaxFieldBytes {
		return fmt.Errorf("%w: %s", ErrFieldTooLarge, name)
	}
	if name == "message-headers" {
		in.MessageID = messageID(value)
		return nil
	}
	if f := fields[name]; f != nil {
		*f(in) = value
	}
	return nil
}

// messageID finds the Message-Id in message-headers, a JSON list of
// [name, value] pairs.
func messageID(headers string) string {
	var pairs [][]string
	if json.Unmarshal([]byte(headers), &pairs) != nil {
		return ""
	}
	for _, p := range pairs {
		if len(p) == 2 && strings.EqualFold(p[0], "Message-Id") {
			return strings.TrimSpace(p[1])
		}
	}
	return ""
}

// Sign returns the signature Mailgun gives a request with timestamp and
// token under key: hex HMAC-SHA256 of timestamp followed by token.
func Sign(key, timestamp, token string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(timestamp))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks in's signature under key and that its timestamp is within
// maxAge of now (DefaultMaxAge when zero). An empty key verifies nothing.
func (in Inbound) Verify(key string, now time.Time, maxAge time.Duration) error {
	if key == "" || in.Token == "" || in.Signature == "" {
		return ErrSignature
	}
	got, err := hex.DecodeString(in.Signature)
	if err != nil || !hmac.Equal(got, mustHex(Sign(key, in.Timestamp, in.Token))) {
		return ErrSignature
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	unix, err := strconv.ParseInt(in.Timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(unix, 0)); d > maxAge || d < -maxAge {
		return ErrStale
	}
	return nil
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s) // Sign makes hex
	return b
}

// Values returns in as the urlencoded form a route posts (for tests and
// the demo's simulated borrowers): every field, with message-headers
// holding From, To, Subject and Message-Id.
func (in Inbound) Values() url.Values {
	headers := [][]string{{"From", in.From}, {"To", in.Recipient}, {"Subject", in.Subject}}
	if in.MessageID != "" {
		headers = append(headers, []string{"Message-Id", in.MessageID})
	}
	h, _ := json.Marshal(headers) // strings always marshal
	return url.Values{
		"recipient": {in.Recipient}, "sender": {in.Sender}, "from": {in.From}, "subject": {in.Subject},
		"body-plain": {in.BodyPlain}, "stripped-text": {in.StrippedText}, "message-headers": {string(h)},
		"timestamp": {in.Timestamp}, "token": {in.Token}, "signature": {in.Signature},
	}
}

// Signed returns in with a fresh token and timestamp (now) and their
// signature under key, as Mailgun sends it.
func (in Inbound) Signed(key string, now time.Time, token string) Inbound {
	in.Timestamp, in.Token = strconv.FormatInt(now.Unix(), 10), token
	in.Signature = Sign(key, in.Timestamp, in.Token)
	return in
}
