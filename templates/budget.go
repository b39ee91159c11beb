package templates

import (
	"fmt"
	"time"

	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// Long but realistic values LongData fills in: the budget of every SMS
// template is checked against them.
const (
	// LongBorrowerName is a 30-character name with accents GSM-7 lacks (í, á)
	// and has (é, ñ), for locales written in the Latin script (and any
	// other but Chinese).
	LongBorrowerName = "María José Fernández-Castañeda"
	// LongChineseName is a long name as Chinese text writes it (a Uyghur
	// given name and father's name, 11 characters), for Chinese locales.
	LongChineseName = "古丽米热·阿不都热合曼"
	// LongAmount is the largest amount due a reminder is checked with.
	LongAmount = "99999.99"
	// LongLink is a self-service link of 40 characters, the most the default
	// copy is written for: a public address of 15 characters, /p/ and a
	// 22-character token.
	LongLink = "https://nudg.es/p/AbCdEfGhIjKlMnOpQrStUv"
	// LongPayLink is a payment portal link of 81 characters, what a lender
	// template that shows Data.PayLink in a text is held to its budget with.
	LongPayLink = "https://payments.lender-portal.example/pay?ref=L-1000210042&amount=99999.99&c=USD"
	// LongDaysLate is the most days past due a reminder is checked with.
	LongDaysLate = 120
)

// LongData returns SampleData with long but realistic values for a borrower
// reading locale: LongBorrowerName (LongChineseName in Chinese), LongAmount
// as the amount due and the promised amount, LongLink, LongPayLink, LongDaysLate, and due
// and promise dates whose long form is the longest of the year in that
// locale ("September 28, 2026", "28 de septiembre de 2026", "2026年10月28日").
// The lender, the phone numbers and the country (US, so amounts read
// "$99,999.99" or "US$99,999.99") are SampleData's. Validate renders every
// SMS template with it to hold it to its segment budget.
func LongData(locale string) Data {
	d := SampleData()
	tag, err := language.Parse(locale)
	if err != nil {
		tag = language.Make(FallbackLocale)
	}
	longest := longestDate(formatterFor(tag, d.Country))
	d.BorrowerName = LongBorrowerName
	if base, _ := tag.Base(); base.String() == "zh" {
		d.BorrowerName = LongChineseName
	}
	d.Amount, d.PromiseAmount = LongAmount, LongAmount
	d.Link, d.PayLink = LongLink, LongPayLink
	d.DaysLate = LongDaysLate
	d.DueDate, d.PromiseDate = longest, longest
	return d
}

// longestDate returns the day of 2026 whose long form is the longest with f:
// the 28th of the month with the longest name (the 28th is the last day
// every month has).
func longestDate(f *Formatter) nudge.Date {
	best, bestLen := nudge.Date{Year: 2026, Month: time.January, Day: 28}, -1
	for m := time.January; m <= time.December; m++ {
		d := nudge.Date{Year: 2026, Month: m, Day: 28}
		s, err := f.Date(d)
		if err != nil {
			continue
		}
		if n := utf16Len(plainSpaces.Replace(s)); n > bestLen {
			best, bestLen = d, n
		}
	}
	return best
}

// budgetVariants are the ways an SMS template is rendered with LongData to
// hold it to its budget: without a disclosure, and with each variant of it.
var budgetVariants = []struct {
	name string
	edit func(*Data)
}{
	{"no disclosure", func(*Data) {}},
	{"later-contact disclosure", func(d *Data) { d.Disclosure = true }},
	{"first-contact disclosure", func(d *Data) { d.Disclosure, d.FirstContact = true, true }},
}

// checkBudget renders an SMS template with LongData in each variant and
// returns an error, naming the file, the template and the locale, for the
// longest rendering when it needs more segments than the template's budget.
func (p *Pack) checkBudget(l *localized, name string, extra []string) error {
	d := LongData(l.locale)
	for _, k := range extra {
		d.Extra[k] = "sample " + k
	}
	f := formatterFor(language.Make(l.locale), d.Country)
	var worst Rendered
	worstVariant := ""
	for _, v := range budgetVariants {
		vd := d
		v.edit(&vd)
		r, err := p.render(l, name, nudge.SMS, f, vd)
		if err != nil {
			return fmt.Errorf("with long data (%s): %w", v.name, err)
		}
		if worstVariant == "" || r.Segments > worst.Segments || (r.Segments == worst.Segments && r.Length > worst.Length) {
			worst, worstVariant = r, v.name
		}
	}
	if !worst.OverBudget() {
		return nil
	}
	how := "shorten it or raise its budget"
	switch {
	case worst.Encoding == UCS2 && CanTransliterate(l.locale) && !p.Transliterates(l.locale):
		how = fmt.Sprintf("shorten it, transliterate %s (sms.transliterate in %s) or raise its budget", l.locale, SettingsFile)
	case worst.Encoding == UCS2:
		how = "shorten it (UCS-2: 67 characters a part) or raise its budget"
	}
	return fmt.Errorf("%s: SMS template %s in %s needs %d segments (%s, %d characters) with long data (%s), over its budget of %d: %s (sms.templates.%s.max_segments in %s)",
		l.parts[PartText].src.origin, name, l.locale, worst.Segments, worst.Encoding, worst.Length, worstVariant, worst.Budget, how, name, SettingsFile)
}
