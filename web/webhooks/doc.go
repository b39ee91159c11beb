// Package webhooks serves the callbacks under /webhooks/: Twilio's SMS
// status and inbound messages, Twilio's voice calls (the conversation's
// TwiML, menu answers, status and transfers to a person), Mailgun's inbound
// email replies, and the lenders' payment portals confirming payments
// (/webhooks/payments, signed with each lender's secret). Every request's
// signature is checked before anything changes.
package webhooks
