package compliance

import (
	"time"

	"github.com/nudgehq/nudge"
)

// Action is what the send-time check allows.
type Action string

// Actions.
const (
	Send     Action = "send"
	Defer    Action = "defer"
	Suppress Action = "suppress"
)

// Input is everything Decide needs; Decide does no I/O.
type Input struct {
	Account nudge.Account
	Channel nudge.ChannelKind
	// Address is the contact address to be used (E.164 or email).
	Address string
	// At is the instant of the decision (the send time).
	At time.Time
	// History holds the account's attempts of at least the last 7 days, oldest first.
	History []nudge.Attempt
	// OptedOut is true when Address has opted out of Channel for the lender.
	OptedOut bool
	// Promise is the account's pending promise to pay, if any.
	Promise *nudge.Promise
	// PaymentClaimed is true when the borrower said they paid and it awaits reconciliation.
	PaymentClaimed bool
	// Profile is the lender's profile (or the built-in us or cn); Decide
	// adds the jurisdiction profiles that govern the borrower. Nil means us.
	Profile *Profile
	// EndMargin keeps a send from starting within this long of the window's
	// end in any candidate zone (voice.end_margin: a call must not run past
	// the window). Zero allows a send up to the window's last instant.
	EndMargin time.Duration
}

// Decision is the answer for one account, channel, address and instant.
type Decision struct {
	Action Action `json:"action"`
	// Until is set for Defer: the next instant the send is allowed.
	Until  time.Time    `json:"until,omitzero"`
	Reason nudge.Reason `json:"reason,omitempty"`
	// Rule names the source of the rule (e.g. "12 CFR 1006.6(b)(1)(i)").
	Rule string `json:"rule,omitempty"`
	// Explanation is one sentence in the lender's language.
	Explanation string `json:"explanation"`
	// Zones are the candidate time zones used.
	Zones []string `json:"zones"`
	// Profile is the name of the lender's profile (or the built-in us or cn
	// it was asked to decide under).
	Profile string `json:"profile"`
	// Applied names every profile that governed the decision: Profile
	// first, then each jurisdiction profile that applies to the borrower
	// (see Jurisdictions), in the order they were applied.
	Applied []string `json:"applied,omitempty"`
	// DecidedBy names the profile in Applied whose rule gave the answer:
	// the one with the window, cap, hold or consent rule that refused, or,
	// for Send, the one whose window closes first. On a tie the earlier
	// profile decides.
	DecidedBy string `json:"decided_by,omitempty"`
	// WindowEnd is set for Send: the first instant after At at which the
	// window closes in any candidate zone. A message must not reach the
	// borrower after it (an SMS's validity period, a call's time limit).
	WindowEnd time.Time `json:"window_end,omitzero"`
	// Limits are the caps the attempt claim must respect atomically (Send only).
	Limits []nudge.CapLimit `json:"-"`
	// Overrides lists lender overrides of defaults that this decision relied on.
	Overrides []Override `json:"overrides,omitempty"`
}
