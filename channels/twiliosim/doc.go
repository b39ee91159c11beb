// Package twiliosim is a local Twilio: an http.Handler serving the Messages
// and Calls endpoints of Twilio's 2010-04-01 REST API with the same paths,
// basic auth, form bodies, JSON answers and error codes, so the real
// twilio-go client (pointed at it through channels/twilio's BaseURL) cannot
// tell the difference.
//
// After accepting a message or a call the simulator plays the other side
// asynchronously: it posts signed status callbacks (X-Twilio-Signature) to
// the StatusCallback URL, and a borrower model decides, per destination
// number and deterministically from a seed, whether the message is
// delivered, fails with a realistic carrier error, or draws a reply (STOP, a
// promise to pay, "already paid", "wrong number") posted as an inbound-SMS
// webhook in the language of the reminder. A borrower who replies STOP is
// opted out of that sender, and later sends answer 21610 as Twilio does.
// For calls it rings, answers (or not) according to the borrower, fetches
// the TwiML at Url, presses keys at each <Gather> and posts the result.
//
// The list endpoints (GET …/Messages.json and …/Calls.json) filter and page
// as Twilio does, newest first, with Twilio's page envelope and PageToken
// next_page_uri, so twilio-go's ListMessage, StreamMessage and PageMessage
// (and their Call counterparts) work unchanged. Date filters take a UTC date
// YYYY-MM-DD or the RFC 3339 date-time twilio-go sends.
//
// Create requests record ValidityPeriod and SmartEncoded (messages) and
// Timeout and TimeLimit (calls). A message still queued (Config.QueueDelay)
// when its validity period ends fails with 30036 and is not sent; a call
// whose Timeout ends before the borrower picks up ends no-answer.
//
// Fault mode makes the provider's edge unreliable the way a real one is:
// Config.Faults (or SetFaults at run time) gives a seeded share of create
// requests one fault each, and ScriptFaults or FailCreates script them per
// number. FaultAcceptDrop creates the resource and closes the connection
// without an answer; FaultAcceptSlow creates it and holds the answer past
// the client's timeout; FaultRefuse429 and FaultRefuse500 answer an error
// and create nothing. Requests (and AwaitRequest) return the log of every
// create request with its fault and SID, while Messages and Calls hold what
// reached the provider, answered or not.
//
// Tests script borrowers explicitly with Script, read what was sent with
// Messages and Calls, and wait for the asynchronous work with Idle, Await
// or AwaitRequest instead of sleeping.
package twiliosim
