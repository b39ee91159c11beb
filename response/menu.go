package response

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge"
)

// menuWindowDays is how many days back the menu of an SMS is looked for: the same
// window that matches an answer to the account last contacted.
const menuWindowDays = 60

// menuFor returns the numbered menu of the latest SMS the account was sent
// at the address the answer came from, or nil when that SMS offered none
// (or the answer is not a text): a reply "1" then means the option the
// borrower was shown, and without a menu it means nothing. Only an SMS that
// went past the last gate counts, and not one the carrier refused or could
// not deliver.
func (h *Handler) menuFor(ctx context.Context, a nudge.Account, in Inbound) (nudge.Menu, error) {
	if in.Channel != nudge.SMS && in.Channel != "" {
		return nil, nil
	}
	hist, err := h.Store.AttemptHistory(ctx, a.Lender, a.ID, h.Clock.Now().AddDate(0, 0, -menuWindowDays))
	if err != nil {
		return nil, fmt.Errorf("looking up the menu offered: %w", err)
	}
	var latest *nudge.Attempt
	for i := range hist {
		at := &hist[i]
		if at.Channel != nudge.SMS || at.Address != in.From || at.SendingAt.IsZero() {
			continue
		}
		switch at.Status {
		case nudge.AttemptFailed, nudge.AttemptUndelivered, nudge.AttemptCanceled:
			continue
		}
		if latest == nil || !at.SendingAt.Before(latest.SendingAt) {
			latest = at
		}
	}
	if latest == nil {
		return nil, nil
	}
	return latest.Menu, nil
}
