package templates

import (
	"github.com/nudgehq/nudge"
)

// DefaultPromiseOfferDays is how many days after today DataFor offers as the
// promise-to-pay date (voice menu option 1) when the account is not yet due
// later than that.
const DefaultPromiseOfferDays = 7

// Data is what a template sees. Templates refer to its fields (.LenderName,
// .DaysLate, …) and format money and dates with the locale-aware functions
// described in the package documentation ({{money .Amount}}, {{date .DueDate}}).
type Data struct {
	// BorrowerName is the borrower's name as the lender gave it.
	BorrowerName string
	// LenderName is the name the borrower knows the lender (or collector) by.
	LenderName string
	// BusinessName is how a limited-content voicemail names the business:
	// the lender's voicemail business name, one that does not say it
	// collects debts (12 CFR 1006.2(j)); templates leave it out when empty.
	BusinessName string
	// Amount is the amount due as a decimal string ("412.50"); never a float.
	Amount string
	// Currency is the ISO 4217 code of Amount and PromiseAmount ("USD").
	Currency string
	// DueDate is the due date of the cycle being reminded.
	DueDate nudge.Date
	// DaysLate is how many days the payment is past due (0 when not late).
	DaysLate int
	// Country is the borrower's ISO 3166-1 alpha-2 country, from the
	// account's address; optional. It selects the regional formats of the
	// borrower's language (es in the US formats money as "$412.50") and shows
	// phone numbers of that country in national form.
	Country string
	// Link is the borrower's self-service link; templates leave it out when empty.
	Link string
	// PayLink is the lender's payment portal link for this account and
	// amount (the lender's payments.url rendered, package payment), or empty
	// when the lender has none; templates leave it out when empty. The
	// default pack shows it in emails only: texts keep the self-service
	// link, whose page puts "Pay now" first, so that no text grows a
	// segment (docs/payments.md).
	PayLink string
	// UnsubscribeURL is the one-click unsubscribe link every email must carry.
	UnsubscribeURL string
	// Disclosure asks for the Reg F §1006.18(e) debt-collector disclosure
	// (third-party collectors only).
	Disclosure bool
	// FirstContact selects the first-communication variant of the disclosure.
	FirstContact bool
	// PromiseDate is the date offered for a promise to pay (voice menu), or
	// the promised date in a confirmation or broken-promise message.
	PromiseDate nudge.Date
	// PromiseAmount is the promised amount as a decimal string; templates
	// fall back to Amount when it is empty.
	PromiseAmount string
	// HelpPhone is the lender's help line (E.164), used by help texts.
	HelpPhone string
	// AgentPhone is the number to reach a person or to call back (E.164).
	AgentPhone string
	// CallerName is the natural person named in a limited-content voicemail;
	// optional.
	CallerName string
	// Extra holds lender-specific fields for lender templates ({{.Extra.plan}});
	// a key a template names that is missing is a render error.
	Extra map[string]string
	// Menu is the numbered menu an SMS offers, which the locale's BlockMenu
	// block writes out. Render sets it from the template's declared menu
	// (Pack.Menu) and this data, whatever the caller put here; it is empty
	// when the template declares none or the text would not fit its budget
	// with it.
	Menu []MenuItem
}

// MenuItem is one option of a numbered SMS menu as a template sees it.
type MenuItem struct {
	// Key is what the borrower replies: "1", "2", ….
	Key string
	// Intent is what the key stands for: "promise", "paid" or
	// "talk_to_person" (nudge.MenuIntents).
	Intent nudge.Intent
	// Date is the date offered, for a promise: Data.PromiseDate.
	Date nudge.Date
	// Amount is the amount offered as a decimal string, for a promise:
	// Data.PromiseAmount, else Data.Amount.
	Amount string
}

// DataFor fills Data from an account: borrower and lender names, country,
// amount,
// currency, due date, days late (never negative) as of today, and an offered
// promise date (the later of the due date and today plus
// DefaultPromiseOfferDays) with the full amount. Callers set the rest (Link,
// UnsubscribeURL, Disclosure, FirstContact, phones) on the result.
func DataFor(acct nudge.Account, lenderName string, today nudge.Date) Data {
	days := acct.DaysPastDue(today)
	if days < 0 {
		days = 0
	}
	offer := today.AddDays(DefaultPromiseOfferDays)
	if acct.DueDate.After(offer) {
		offer = acct.DueDate
	}
	country := ""
	if acct.Address != nil {
		country = acct.Address.Country
	}
	return Data{
		BorrowerName:  acct.Borrower.Name,
		Country:       country,
		LenderName:    lenderName,
		Amount:        acct.AmountDue,
		Currency:      acct.Currency,
		DueDate:       acct.DueDate,
		DaysLate:      days,
		PromiseDate:   offer,
		PromiseAmount: acct.AmountDue,
	}
}

// SampleData returns fixed, complete example data: Validate renders every
// template with it, and previews may show it.
func SampleData() Data {
	return Data{
		BorrowerName:   "Jordan Lee",
		LenderName:     "Sample Auto Finance",
		BusinessName:   "Sample Motors",
		Amount:         "412.50",
		Currency:       "USD",
		Country:        "US",
		DueDate:        nudge.MustDate("2026-06-01"),
		DaysLate:       5,
		Link:           "https://pay.example.com/a/SAMPLE",
		PayLink:        "https://pay.sample.example/pay?ref=L-100021&amount=412.50",
		UnsubscribeURL: "https://pay.example.com/u/SAMPLE-TOKEN",
		PromiseDate:    nudge.MustDate("2026-06-12"),
		PromiseAmount:  "412.50",
		HelpPhone:      "+18005550100",
		AgentPhone:     "+18005550199",
		CallerName:     "Alex Kim",
		Extra:          map[string]string{},
	}
}
