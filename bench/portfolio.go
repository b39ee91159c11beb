package bench

import (
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

// place is a US state with one of its zones and an area code there.
type place struct{ state, zone, area string }

var places = []place{
	{"NY", "America/New_York", "212"}, {"FL", "America/New_York", "305"},
	{"IL", "America/Chicago", "312"}, {"TX", "America/Chicago", "214"},
	{"CO", "America/Denver", "303"}, {"AZ", "America/Phoenix", "602"},
	{"CA", "America/Los_Angeles", "415"}, {"WA", "America/Los_Angeles", "206"},
}

// account makes the synthetic account id of the lender, deterministically
// from n: spread over the US zones, a third in Spanish, half with a stated
// zone, every one textable with consent and a third with an email address.
func account(lender, id string, n int, due nudge.Date) nudge.Account {
	p := places[n%len(places)]
	lang := "en"
	if n%3 == 0 {
		lang = "es"
	}
	a := nudge.Account{
		ID: id, Lender: lender, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: fmt.Sprintf("Borrower %d", n), Language: lang},
		Address:  &nudge.Address{Country: "US", Region: p.state},
		Currency: "USD", AmountDue: fmt.Sprintf("%d.%02d", 150+n%750, n%100), DueDate: due,
		Status: nudge.StatusActive,
	}
	if n%2 == 0 {
		a.Borrower.Timezone = p.zone
	}
	phone := fmt.Sprintf("+1%s%03d%04d", p.area, 200+(n/10000)%700, n%10000)
	a.Contacts = []nudge.Contact{
		{Channel: nudge.SMS, Address: phone, Consent: true},
		{Channel: nudge.Voice, Address: phone, Consent: true},
	}
	if n%3 == 1 {
		a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: fmt.Sprintf("b%d@example.com", n)})
	}
	return a
}

// idleHorizon is how far ahead idle accounts are next due: never during a run.
const idleHorizon = 10 * 365 * 24 * time.Hour
