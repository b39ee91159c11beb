package compliance_test

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// BenchmarkDecide measures the send-time decision for an SMS to a borrower
// whose phone and address disagree (two candidate zones) and who had three
// texts in the past week: what the worker checks before every send.
func BenchmarkDecide(b *testing.B) {
	p, err := compliance.Builtin("us")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 6, 2, 17, 0, 0, 0, time.UTC) // 13:00 in New York, 10:00 in Los Angeles
	acct := nudge.Account{
		ID: "A1", Lender: "acme", Borrower: nudge.Borrower{Name: "Ana", Language: "en"},
		Address: &nudge.Address{Country: "US", Region: "CA"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: "+12125550123", Consent: true},
			{Channel: nudge.Voice, Address: "+12125550123", Consent: true},
			{Channel: nudge.Email, Address: "ana@example.com"},
		},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-01"), Status: nudge.StatusActive,
	}
	history := make([]nudge.Attempt, 0, 3)
	for d := 6; d > 0; d -= 2 {
		sent := at.Add(-time.Duration(d) * 24 * time.Hour)
		history = append(history, nudge.Attempt{Channel: nudge.SMS, Address: "+12125550123",
			Status: nudge.AttemptDelivered, CreatedAt: sent, SentAt: sent})
	}
	in := compliance.Input{Account: acct, Channel: nudge.SMS, Address: "+12125550123", At: at, History: history, Profile: p}
	b.ReportAllocs()
	for b.Loop() {
		if d := compliance.Decide(in); d.Action != compliance.Send {
			b.Fatalf("decision %s (%s), want send", d.Action, d.Reason)
		}
	}
}
