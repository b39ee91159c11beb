package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/metrics"
)

// ContactRecorder records what a provider says about a borrower's address.
type ContactRecorder interface {
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error
}

// codeOf returns the classification of the error code the provider reported
// on attempt a after accepting it, when a failed or was not delivered and
// the channel's sender classifies such codes (nudge.CodeClassifier); nil
// otherwise.
func codeOf(sender any, a nudge.Attempt) *nudge.ProviderError {
	c, ok := sender.(nudge.CodeClassifier)
	if !ok || a.ErrorCode == "" || (a.Status != nudge.AttemptFailed && a.Status != nudge.AttemptUndelivered) {
		return nil
	}
	return c.ClassifyCode(a.ErrorCode)
}

// RecordProviderCode records what pe, the classification of the error code
// a.ErrorCode that the provider reported on attempt a after accepting it,
// says about a's address: an opt-out with its event (the recipient opted
// out at the provider), or the contact marked undeliverable. The status
// webhook records it for a callback that finds its attempt; the pipeline for
// a callback that outran the send's record and was kept until it; the
// reconciler for a code in the provider's records. A nil pe records nothing.
func RecordProviderCode(ctx context.Context, st ContactRecorder, a nudge.Attempt, pe *nudge.ProviderError, now time.Time, m metrics.Recorder) error {
	if pe == nil {
		return nil
	}
	var errs []error
	if pe.OptOut {
		source := "provider_" + a.ErrorCode
		detail, _ := json.Marshal(map[string]string{"source": source, "channel": string(a.Channel), "code": a.ErrorCode})
		added, err := st.AddOptOut(ctx, nudge.OptOut{Lender: a.Lender, Channel: a.Channel, Address: a.Address, Source: source,
			Reason: "the provider reported that the recipient opted out", CreatedAt: now},
			nudge.Event{Lender: a.Lender, AccountID: a.AccountID, ReminderID: a.ReminderID, AttemptID: a.ID,
				Kind: nudge.EventOptOut, Action: "opt_out", Reason: nudge.ReasonOptedOut, Detail: detail, At: now})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("record the opt-out of code %s: %w", a.ErrorCode, err))
		case added && m != nil:
			m.OptOut(source)
		}
	}
	if pe.Undeliverable {
		err := st.SetContactState(ctx, a.Lender, a.AccountID, a.Channel, a.Address, nudge.ContactUndeliverable)
		if err != nil && !errors.Is(err, nudge.ErrNotFound) {
			errs = append(errs, fmt.Errorf("mark the contact of code %s undeliverable: %w", a.ErrorCode, err))
		}
	}
	return errors.Join(errs...)
}
