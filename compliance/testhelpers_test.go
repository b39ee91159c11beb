package compliance

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

const (
	nyPhone = "+12125550123" // Manhattan: America/New_York
	laPhone = "+13105550123" // Los Angeles: America/Los_Angeles
	cnPhone = "+8613812345678"
	email   = "ana@example.com"
)

// account returns an active account reachable on every channel with consent,
// placed in New York by its phone number, changed by mods.
func account(mods ...func(*nudge.Account)) nudge.Account {
	a := nudge.Account{
		ID:       "A1",
		Lender:   "acme",
		Borrower: nudge.Borrower{Name: "Ana"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: nyPhone, Consent: true},
			{Channel: nudge.Voice, Address: nyPhone, Consent: true},
			{Channel: nudge.Email, Address: email},
		},
		Currency:  "USD",
		AmountDue: "412.50",
		DueDate:   nudge.MustDate("2026-06-01"),
		Status:    nudge.StatusActive,
	}
	for _, m := range mods {
		m(&a)
	}
	return a
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

func builtin(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := Builtin(name)
	require.NoError(t, err)
	return p
}

func addressOf(a nudge.Account, ch nudge.ChannelKind) string {
	for _, c := range a.Contacts {
		if c.Channel == ch {
			return c.Address
		}
	}
	return ""
}

func attempt(ch nudge.ChannelKind, status nudge.AttemptStatus, at time.Time) nudge.Attempt {
	addr := nyPhone
	if ch == nudge.Email {
		addr = email
	}
	return nudge.Attempt{Channel: ch, Status: status, Address: addr, CreatedAt: at, SentAt: at}
}
