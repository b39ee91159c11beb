// Package webhook sends a lender's events to the HTTPS endpoints it
// registered, signed as the Standard Webhooks specification says
// (webhook-id, webhook-timestamp and webhook-signature headers, made with
// github.com/standard-webhooks/standard-webhooks/libraries).
//
// The scheduler runs Service.Fanout on a tick: it reads each endpoint's
// events from the lender's feed after the endpoint's cursor, stores one
// delivery per (endpoint, event) wanted, moves the cursor in the same
// transaction, and puts every due delivery on the webhooks queue as a
// webhook:deliver task. The worker's Service.ProcessTask sends it.
//
// Deliveries are at least once: the delivery id is the webhook-id, the same
// on every try, so receivers de-duplicate on it. They are ordered per
// account: a delivery waits while an earlier one of the same endpoint and
// account is pending. A failure is retried with exponential back-off (5 s,
// doubling, at most 2 h apart) for up to 3 days, then the delivery is
// failed and can be listed and replayed. An endpoint that fails 50 times
// in a row over at least 24 hours is disabled, with an ALERT log line, an
// audit entry and the reason on the endpoint.
//
// Requests go only to the registered https URL: redirects are not followed
// (a 3xx is a failure), and connections to loopback, private, link-local
// and other non-public addresses are refused after the name is resolved,
// unless Config.AllowPrivateAddresses (tests only) says otherwise.
package webhook
