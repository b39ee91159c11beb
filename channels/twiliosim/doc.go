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
// Tests script borrowers explicitly with Script, read what was sent with
// Messages and Calls, and wait for the asynchronous work with Idle or Await
// instead of sleeping.
package twiliosim
