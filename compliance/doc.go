// Package compliance holds the pure rules that decide whether a borrower may
// be contacted: jurisdiction profiles (us, cn) and lender profiles built on
// them, the profiles of the borrower's state, region or city applied on top
// (us-ma, us-wa, us-nyc, in; the strictest rule wins), the borrower's
// candidate time zones, the allowed window in every one of them (DST-safe),
// lender blackout dates, rolling frequency caps counted from attempt
// history, holds, opt-outs and consent.
//
// Decide answers send, defer (with the instant it becomes allowed) or
// suppress (with a nudge.Reason), names the rule behind the answer and
// explains it in the profile's language. NextAllowed moves a planned time into
// the window. The package does no I/O and never reads the clock: every
// instant is passed in. See docs/compliance.md.
package compliance
