// Package webhooks serves the providers' callbacks under /webhooks/:
// Twilio's SMS status and inbound messages, Twilio's voice calls (the
// conversation's TwiML, menu answers, status and transfers to a person)
// and Mailgun's inbound email replies. Every request's signature is
// checked before anything changes.
package webhooks
