package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
)

// The demo's two lenders: a US auto lender and a Chinese one.
const (
	demoLenderUS = "demo"
	demoLenderCN = "demo-cn"
)

// demoPortfolio is the synthetic portfolio of `nudge demo`, with the
// opt-outs and promises some of its borrowers already have.
type demoPortfolio struct {
	Accounts []nudge.Account
	OptOuts  []nudge.OptOut
	Promises []nudge.Promise
}

type usPlace struct {
	state, zone, area string
}

// usPlaces spread borrowers over the US zones, including states that span two.
var usPlaces = []usPlace{
	{"NY", "America/New_York", "212"},
	{"FL", "America/New_York", "305"},
	{"GA", "America/New_York", "404"},
	{"IL", "America/Chicago", "312"},
	{"TX", "America/Chicago", "214"},
	{"TN", "America/Chicago", "615"},
	{"CO", "America/Denver", "303"},
	{"AZ", "America/Phoenix", "602"},
	{"CA", "America/Los_Angeles", "415"},
	{"WA", "America/Los_Angeles", "206"},
	{"IN", "America/Indiana/Indianapolis", "317"},
}

var (
	usFirst = []string{"Ana", "James", "Maria", "Robert", "Linda", "José", "Emily", "Michael", "Sofía", "David", "Jennifer", "Luis", "Sarah", "Carlos", "Ashley"}
	usLast  = []string{"García", "Smith", "Johnson", "Martínez", "Brown", "Davis", "López", "Wilson", "Anderson", "Hernández", "Taylor", "Moore"}
	cnNames = []string{"王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周杰", "吴芳", "徐明", "孙燕"}
	cnPlace = []string{"GD", "BJ", "SH", "ZJ", "JS", "SC", "HB", "SD"}
	// demoStepDays are the days past due on which the example cadences have steps;
	// most synthetic due dates land on one of them so the demo has work today.
	demoStepDays = []int{-3, 0, 1, 5, 10, 20, 30}
)

// genPortfolio makes n accounts deterministically from seed, dated around the
// borrowers' today at now: due dates from 40 days ago to 10 days ahead, about
// one in five Chinese.
func genPortfolio(n int, seed uint64, now time.Time) (demoPortfolio, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var p demoPortfolio
	for i := range n {
		var a nudge.Account
		if rng.IntN(5) == 0 {
			a = genCN(rng, i)
		} else {
			a = genUS(rng, i)
		}
		today := localToday(a, now)
		dpd := demoStepDays[rng.IntN(len(demoStepDays))]
		if rng.IntN(4) == 0 {
			dpd = rng.IntN(51) - 10 // anywhere from 10 days ahead to 40 days ago
		}
		a.DueDate = today.AddDays(-dpd)
		a.AmountDue = fmt.Sprintf("%d.%02d", 150+rng.IntN(750), rng.IntN(100))
		if a.Currency == "CNY" {
			a.AmountDue = fmt.Sprintf("%d.00", 1000+rng.IntN(9000))
		}
		switch r := rng.IntN(100); {
		case r < 3:
			a.Status = nudge.StatusPaid
		case r < 8:
			kinds := []nudge.HoldKind{nudge.HoldDispute, nudge.HoldBankruptcy, nudge.HoldCeaseCommunication, nudge.HoldHardship}
			a.Holds = []nudge.Hold{{Kind: kinds[rng.IntN(len(kinds))], Reason: "demo"}}
		}
		if ps := account.Normalize(&a); len(ps) > 0 {
			return p, fmt.Errorf("synthetic account %s: %w", a.ID, ps)
		}
		switch r := rng.IntN(100); {
		case r < 5 && len(a.Contacts) > 0:
			c := a.Contacts[0]
			p.OptOuts = append(p.OptOuts, nudge.OptOut{Lender: a.Lender, Channel: c.Channel, Address: c.Address, Source: "portfolio", Reason: "opted out before the demo"})
		case r < 10:
			p.Promises = append(p.Promises, nudge.Promise{
				ID: fmt.Sprintf("prm_demo_%04d", i), Lender: a.Lender, AccountID: a.ID,
				Amount: a.AmountDue, Currency: a.Currency, Due: today.AddDays(1 + rng.IntN(7)),
				Status: nudge.PromisePending,
			})
		}
		p.Accounts = append(p.Accounts, a)
	}
	return p, nil
}

func genUS(rng *rand.Rand, i int) nudge.Account {
	place := usPlaces[rng.IntN(len(usPlaces))]
	first, last := usFirst[rng.IntN(len(usFirst))], usLast[rng.IntN(len(usLast))]
	lang := "en"
	if rng.IntN(10) < 3 {
		lang = "es"
	}
	phone := fmt.Sprintf("+1%s%03d%04d", place.area, 200+rng.IntN(700), rng.IntN(10000))
	a := nudge.Account{
		ID: fmt.Sprintf("US-%05d", i+1), Lender: demoLenderUS, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: first + " " + last, Language: lang},
		Currency: "USD", Status: nudge.StatusActive,
	}
	consent := rng.IntN(10) != 0
	a.Contacts = []nudge.Contact{
		{Channel: nudge.SMS, Address: phone, Consent: consent},
		{Channel: nudge.Voice, Address: phone, Consent: consent},
	}
	switch r := rng.IntN(10); {
	case r < 2:
		// Only a phone number: the area code is all Nudge knows.
	case r < 4:
		// Phone and address disagree: a New York number, a Californian address.
		other := usPlaces[rng.IntN(len(usPlaces))]
		a.Address = &nudge.Address{Country: "US", Region: other.state}
	default:
		a.Address = &nudge.Address{Country: "US", Region: place.state}
		if rng.IntN(2) == 0 {
			a.Borrower.Timezone = place.zone
		}
	}
	if rng.IntN(3) != 0 {
		a.Contacts = append(a.Contacts, nudge.Contact{
			Channel: nudge.Email, Address: fmt.Sprintf("borrower%05d@example.com", i+1), Workplace: rng.IntN(15) == 0,
		})
	}
	return a
}

func genCN(rng *rand.Rand, i int) nudge.Account {
	phone := fmt.Sprintf("+86138%08d", rng.IntN(100000000))
	a := nudge.Account{
		ID: fmt.Sprintf("CN-%05d", i+1), Lender: demoLenderCN, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: cnNames[rng.IntN(len(cnNames))], Language: "zh-CN", Timezone: "Asia/Shanghai"},
		Address:  &nudge.Address{Country: "CN", Region: cnPlace[rng.IntN(len(cnPlace))]},
		Currency: "CNY", Status: nudge.StatusActive,
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: phone, Consent: true},
			{Channel: nudge.Voice, Address: phone, Consent: true},
		},
	}
	if rng.IntN(3) == 0 {
		a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: fmt.Sprintf("jiekuan%05d@example.cn", i+1)})
	}
	return a
}

// localToday is the date at now where the borrower lives (Shanghai for the
// Chinese lender, New York for the US one).
func localToday(a nudge.Account, now time.Time) nudge.Date {
	zone := "America/New_York"
	if a.Lender == demoLenderCN {
		zone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nudge.DateOf(now.UTC())
	}
	return nudge.DateOf(now.In(loc))
}

// demoStart is the demo's default clock: today at 02:30 UTC, when it is
// 10:30 in Shanghai (Chinese reminders go out), 21:30 on the US east coast
// (quiet hours: deferred) and late afternoon on the west coast (texts and
// calls), so the demo shows sends, calls, deferrals and quiet hours at once.
func demoStart(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 2, 30, 0, 0, time.UTC)
}
