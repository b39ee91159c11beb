package templates_test

import (
	"testing"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/templates"
)

// BenchmarkRender measures rendering the default pack's templates the worker
// renders most, in English and Spanish: one SMS, one email (text and HTML)
// and one voice script; and an SMS with the first communication's
// debt-collector disclosure, whose menu then does not fit the budget and is
// left out (as in `nudge bench`).
func BenchmarkRender(b *testing.B) {
	pack := templates.Default()
	acct := nudge.Account{
		Borrower: nudge.Borrower{Name: "Ana Ruiz", Language: "es-MX"},
		Address:  &nudge.Address{Country: "US"}, Currency: "USD", AmountDue: "289.00",
		DueDate: nudge.MustDate("2026-06-01"),
	}
	d := templates.DataFor(acct, "Acme Auto", nudge.MustDate("2026-06-04"))
	d.Link = "https://pay.example.com/p/x1"
	d.UnsubscribeURL = "https://pay.example.com/u/x1"
	d.HelpPhone, d.AgentPhone = "+18005550100", "+18005550101"
	cases := []struct {
		name      string
		tmpl      string
		ch        nudge.ChannelKind
		lang      string
		disclosed bool
	}{
		{name: "sms/en", tmpl: "late_sms", ch: nudge.SMS, lang: "en"},
		{name: "sms/es", tmpl: "late_sms", ch: nudge.SMS, lang: "es-MX"},
		{name: "email/en", tmpl: "late_email", ch: nudge.Email, lang: "en"},
		{name: "voice/en", tmpl: "late_voice", ch: nudge.Voice, lang: "en"},
		{name: "sms/en/disclosed", tmpl: "due_sms", ch: nudge.SMS, lang: "en", disclosed: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			langs := templates.Locales(c.lang, "en")
			d := d
			d.Disclosure, d.FirstContact = c.disclosed, c.disclosed
			b.ReportAllocs()
			for b.Loop() {
				r, err := pack.Render(c.tmpl, c.ch, langs, d)
				if err != nil {
					b.Fatal(err)
				}
				if r.Text == "" && len(r.Parts) == 0 {
					b.Fatalf("%s rendered nothing", c.name)
				}
			}
		})
	}
}
