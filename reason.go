package nudge

// Reason names why something was not sent, was deferred, or failed. Reasons are
// stable identifiers: they are stored, exported and used as metric labels.
type Reason string

// Reasons for suppressing or deferring a reminder, decided by package compliance.
const (
	ReasonNone            Reason = ""
	ReasonQuietHours      Reason = "quiet_hours"         // outside the allowed window now; deferred
	ReasonNoCommonWindow  Reason = "no_common_window"    // candidate zones share no allowed time
	ReasonBlackout        Reason = "blackout"            // a lender holiday or blackout date
	ReasonFrequencyCap    Reason = "frequency_cap"       // a per-channel rolling cap is reached
	ReasonCallCap         Reason = "call_cap"            // Reg F: 7 counted calls in 7 days
	ReasonConversation    Reason = "recent_conversation" // Reg F: a conversation in the last 7 days
	ReasonUnansweredCap   Reason = "unanswered_cap"      // CN: 6 unanswered call attempts a day
	ReasonHold            Reason = "hold"                // the account carries a hold
	ReasonAccountPaid     Reason = "account_paid"        // status paid
	ReasonAccountClosed   Reason = "account_closed"      // status closed or charged off
	ReasonOptedOut        Reason = "opted_out"           // the address opted out on this channel
	ReasonNoConsent       Reason = "no_consent"          // sms/voice without prior express consent
	ReasonWorkplaceEmail  Reason = "workplace_email"     // an employer-given email address
	ReasonPromiseActive   Reason = "promise_active"      // a promise to pay is pending
	ReasonPaymentClaimed  Reason = "payment_claimed"     // the borrower says they paid; awaiting reconciliation
	ReasonNoContact       Reason = "no_contact"          // no usable address on the channel
	ReasonWrongParty      Reason = "wrong_party"         // the number reached someone else
	ReasonUndeliverable   Reason = "undeliverable"       // the address bounced permanently
	ReasonUnknownTimezone Reason = "unknown_timezone"    // a stated zone that does not exist
)

// Reasons for a reminder or attempt ending without a send, decided by the pipeline.
const (
	ReasonExpired          Reason = "expired"         // the step's moment passed for good
	ReasonCanceled         Reason = "canceled"        // a payment, hold, promise or opt-out canceled it
	ReasonCycleEnded       Reason = "cycle_ended"     // the due date moved on or the account is paid
	ReasonProviderFailed   Reason = "provider_failed" // the provider refused it permanently
	ReasonProviderRetry    Reason = "provider_retry"  // the provider failed transiently; retried
	ReasonUnknownOutcome   Reason = "unknown_outcome" // a send may have happened; reconciliation resolves it
	ReasonReconciled       Reason = "reconciled"      // the provider's records resolved an unknown outcome
	ReasonRetried          Reason = "retried"         // a person retried a failed reminder after a fix
	ReasonPaused           Reason = "paused"          // the lender paused itself, a cadence or a channel (or the sender address was refused)
	ReasonRenderFailed     Reason = "render_failed"   // the template could not be rendered
	ReasonRetriesExhausted Reason = "retries_exhausted"
)
