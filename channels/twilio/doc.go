// Package twilio sends SMS reminders and places reminder calls through
// Twilio's Programmable Messaging and Voice APIs, and holds the
// Twilio-specific pieces the rest of Nudge needs: the classification of
// Twilio errors, the mapping of Twilio message and call statuses onto attempt
// statuses, and the X-Twilio-Signature check for webhooks.
//
// # Exactly once at Twilio's edge
//
// A create request whose answer is lost may or may not have created the
// message or call. Each request records, through net/http/httptrace, whether
// it was fully written, and Classify uses that: a request refused before it
// was written (DNS, dial, TLS handshake) or refused by Twilio in its answer
// (429, 5xx with a Twilio error) is retryable; one written whose answer was
// lost (timeout, reset, EOF, a gateway's 502/503/504, a 2xx without a sid) is
// MaybeAccepted and must be resolved with Lookup (SMS.Lookup, Voice.Lookup,
// both nudge.Prober), which searches Twilio's list endpoints for the attempt
// by recipient, time and, for SMS, the exact body. Each message's status
// callback URL carries its attempt id (StatusCallbackURLFor), so a late
// callback for such an attempt can be matched too.
//
// # Never late at the carrier
//
// Every message carries the time left in the borrower's window
// (nudge.Message.ValidFor) as its validity period (ValidityPeriod), after
// which Twilio fails it unsent; every call carries a ring timeout and a time
// limit no longer than that window (CallTimeLimit).
//
// # Reaching a stand-in
//
// The senders talk to Twilio through the official twilio-go client. When
// Config.BaseURL is set, an http.RoundTripper rewrites the scheme and host of
// every request so the same client reaches channels/twiliosim (or any other
// stand-in) instead of api.twilio.com; paths, basic auth and form bodies are
// unchanged.
package twilio
