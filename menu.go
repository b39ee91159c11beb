package nudge

import (
	"slices"
	"sort"
)

// MenuIntents are the intents a numbered SMS menu may offer. Consent is never
// one of them: only START, YES and UNSTOP opt back in, and a number is not a
// keyword carriers honour, so neither opt-in nor opt-out can be offered.
var MenuIntents = []Intent{IntentPromise, IntentPaid, IntentTalkToPerson}

// MenuOption is what one key of a numbered menu stands for.
type MenuOption struct {
	// Intent is the intent the key stands for (one of MenuIntents).
	Intent Intent `json:"intent"`
	// Date is the promised date, for a promise option.
	Date Date `json:"date,omitzero"`
	// Amount is the promised amount as a decimal string, for a promise
	// option; empty means the amount due.
	Amount string `json:"amount,omitempty"`
}

// Menu is the numbered menu an SMS offered ("Reply 1 to pay $300.00 by Fri
// 12/05, 2 if you already paid"), by key ("1", "2"). It is stored with the
// attempt that sent it, so that a reply "1" means the option the borrower
// was shown. It holds intents, dates and amounts, never a name or an
// address.
type Menu map[string]MenuOption

// Keys returns the menu's keys, in numeric order for digits.
func (m Menu) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}

// IsMenuIntent reports whether in is an intent a menu may offer.
func IsMenuIntent(in Intent) bool { return slices.Contains(MenuIntents, in) }
