// Package twilio sends SMS reminders through Twilio's Programmable Messaging
// API and holds the Twilio-specific pieces the rest of Nudge needs: the
// classification of Twilio errors into retryable and permanent failures, the
// mapping of Twilio message statuses onto attempt statuses, and the
// X-Twilio-Signature check for webhooks.
//
// The sender talks to Twilio through the official twilio-go client. When
// Config.BaseURL is set, an http.RoundTripper rewrites the scheme and host of
// every request so the same client reaches channels/twiliosim (or any other
// stand-in) instead of api.twilio.com; paths, basic auth and form bodies are
// unchanged.
package twilio
