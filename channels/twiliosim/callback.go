package twiliosim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nudgehq/nudge/channels/twilio"
)

// Kinds of webhooks the simulator posts.
const (
	KindMessageStatus = "message-status" // a message status callback
	KindInbound       = "inbound-sms"    // a borrower's reply
	KindCallStatus    = "call-status"    // a call progress callback
	KindTwiML         = "twiml"          // a TwiML fetch for a call (Url, Gather action, Redirect)
)

// maxResponseBody bounds what the simulator reads of a webhook answer.
const maxResponseBody = 1 << 20

// Delivery is one webhook the simulator posted (with its retries).
type Delivery struct {
	// Kind is KindMessageStatus, KindInbound, KindCallStatus or KindTwiML.
	Kind string
	// SID is the message or call the webhook is about.
	SID string
	// Method and URL are the request line; Form is the signed form.
	Method    string
	URL       string
	Form      url.Values
	Signature string
	// StatusCode is the last HTTP status (0 after a network error).
	StatusCode int
	// Response is the last answer's body (TwiML for inbound SMS and calls).
	Response string
	// Attempts counts the posts; Err is the last failure, nil on success.
	Attempts int
	Err      error
	At       time.Time
}

// OK reports whether the webhook was answered with a 2xx status.
func (d Delivery) OK() bool { return d.Err == nil && d.StatusCode >= 200 && d.StatusCode < 300 }

// post sends a signed webhook, retrying on network errors and non-2xx
// answers up to CallbackAttempts times, records it and returns it.
func (s *Sim) post(kind, sid, method, target string, form url.Values) Delivery {
	d := Delivery{Kind: kind, SID: sid, Method: method, URL: target, Form: form}
	if method == "" {
		d.Method = http.MethodPost
	}
	signedURL, body := target, form.Encode()
	signedForm := form
	if d.Method == http.MethodGet {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		signedURL, body, signedForm = target+sep+form.Encode(), "", url.Values{}
		d.URL = signedURL
	}
	// A webhook is signed with the token of the account it is about.
	token := s.cfg.AuthToken
	if t := s.tokenOf(form.Get("AccountSid")); t != "" {
		token = t
	}
	d.Signature = twilio.SignRequest(token, signedURL, signedForm)
	idem := newSID("ID")
	ctx, cancel := s.ctx()
	defer cancel()
	for attempt := 1; attempt <= s.cfg.CallbackAttempts; attempt++ {
		if attempt > 1 && !s.wait(time.Duration(attempt-1)*retryBackoff) {
			d.Err = fmt.Errorf("twiliosim: %s to %s: simulator closed", kind, target)
			break
		}
		d.Attempts = attempt
		d.StatusCode, d.Response, d.Err = s.send(ctx, d.Method, signedURL, body, d.Signature, idem)
		if d.OK() {
			break
		}
		if d.Err == nil {
			d.Err = fmt.Errorf("twiliosim: %s to %s answered HTTP %d", kind, target, d.StatusCode)
		}
	}
	d.At = s.cfg.Clock.Now()
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.notifyLocked()
	s.mu.Unlock()
	return d
}

func (s *Sim) send(ctx context.Context, method, target, body, signature, idem string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, "", fmt.Errorf("twiliosim: build request to %s: %w", target, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set(twilio.SignatureHeader, signature)
	req.Header.Set("I-Twilio-Idempotency-Token", idem)
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("twiliosim: post to %s: %w", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return resp.StatusCode, string(b), fmt.Errorf("twiliosim: read answer from %s: %w", target, err)
	}
	return resp.StatusCode, string(b), nil
}
