package account

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// Problem is one thing wrong with an account document.
type Problem struct {
	// Row is the 1-based position of the account in its file (0 for a single document).
	Row int
	// Field is the JSON path of the field, e.g. "contacts[1].address".
	Field   string
	Message string
}

func (p Problem) String() string {
	prefix := ""
	if p.Row > 0 {
		prefix = fmt.Sprintf("row %d: ", p.Row)
	}
	if p.Field == "" {
		return prefix + p.Message
	}
	return prefix + p.Field + ": " + p.Message
}

// Problems is every problem found in one or more account documents.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	amountPattern   = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Normalize validates a and rewrites it into canonical form: trimmed strings,
// upper-case country and currency codes, E.164 phone numbers, canonical
// language tags, lower-case email addresses and status "active" when empty.
// It returns every problem found; a is only meaningful when there are none.
func Normalize(a *nudge.Account) Problems {
	var ps Problems
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	a.ID = strings.TrimSpace(a.ID)
	a.Lender = strings.TrimSpace(a.Lender)
	a.Portfolio = strings.TrimSpace(a.Portfolio)
	switch {
	case a.ID == "":
		bad("id", "is required")
	case !idPattern.MatchString(a.ID):
		bad("id", "%q must be 1-128 letters, digits, '.', '_', ':' or '-'", a.ID)
	}
	switch {
	case a.Lender == "":
		bad("lender", "is required")
	case !idPattern.MatchString(a.Lender):
		bad("lender", "%q must be 1-128 letters, digits, '.', '_', ':' or '-'", a.Lender)
	}

	a.Borrower.Name = strings.TrimSpace(a.Borrower.Name)
	if a.Borrower.Name == "" {
		bad("borrower.name", "is required")
	}
	if l := strings.TrimSpace(a.Borrower.Language); l != "" {
		tag, err := language.Parse(l)
		if err != nil {
			bad("borrower.language", "%q is not a language tag like en, es or zh-CN", l)
		} else {
			a.Borrower.Language = tag.String()
		}
	}
	if tz := strings.TrimSpace(a.Borrower.Timezone); tz != "" {
		if _, err := nudge.LoadLocation(tz); err != nil || tz == "Local" {
			bad("borrower.timezone", "%q is not an IANA time zone like America/New_York", tz)
		}
		a.Borrower.Timezone = tz
	}

	country := ""
	if a.Address != nil {
		a.Address.Country = strings.ToUpper(strings.TrimSpace(a.Address.Country))
		a.Address.Region = strings.ToUpper(strings.TrimSpace(a.Address.Region))
		a.Address.PostalCode = strings.TrimSpace(a.Address.PostalCode)
		switch {
		case a.Address.Country == "":
			bad("address.country", "is required when an address is given")
		case !countryPattern.MatchString(a.Address.Country):
			bad("address.country", "%q is not a two-letter ISO 3166 country code", a.Address.Country)
		default:
			country = a.Address.Country
		}
	}

	if len(a.Contacts) == 0 {
		bad("contacts", "at least one contact is required")
	}
	seen := map[string]int{}
	for i := range a.Contacts {
		c := &a.Contacts[i]
		field := fmt.Sprintf("contacts[%d]", i)
		c.Address = strings.TrimSpace(c.Address)
		if !c.Channel.Valid() {
			bad(field+".channel", "%q is not a channel (want sms, voice or email)", c.Channel)
			continue
		}
		switch c.State {
		case nudge.ContactOK, nudge.ContactWrongParty, nudge.ContactUndeliverable:
		default:
			bad(field+".state", "%q is not a contact state (want wrong_party or undeliverable, or leave it out)", c.State)
		}
		if c.Address == "" {
			bad(field+".address", "is required")
			continue
		}
		if c.Channel.IsPhone() {
			e164, err := NormalizePhone(c.Address, country)
			if err != nil {
				bad(field+".address", "%v", err)
				continue
			}
			c.Address = e164
			if c.Workplace {
				bad(field+".workplace", "applies to email contacts only")
			}
		} else {
			addr, err := mail.ParseAddress(c.Address)
			if err != nil || addr.Name != "" || !strings.Contains(addr.Address, ".") {
				bad(field+".address", "%q is not a valid email address", c.Address)
				continue
			}
			c.Address = strings.ToLower(addr.Address)
		}
		key := string(c.Channel) + " " + c.Address
		if j, dup := seen[key]; dup {
			bad(field+".address", "duplicates contacts[%d]", j)
		}
		seen[key] = i
	}

	a.Currency = strings.ToUpper(strings.TrimSpace(a.Currency))
	if !currencyPattern.MatchString(a.Currency) {
		bad("currency", "%q is not a three-letter ISO 4217 currency code", a.Currency)
	}
	a.AmountDue = strings.TrimSpace(a.AmountDue)
	if !amountPattern.MatchString(a.AmountDue) {
		bad("amount_due", "%q is not a decimal amount like \"412.50\"", a.AmountDue)
	}
	if a.DueDate.IsZero() {
		bad("due_date", "is required")
	}
	if a.Status == "" {
		a.Status = nudge.StatusActive
	} else if !a.Status.Valid() {
		bad("status", "%q is not a status (want active, paid, closed or charged_off)", a.Status)
	}
	holds := map[nudge.HoldKind]bool{}
	for i, h := range a.Holds {
		field := fmt.Sprintf("holds[%d]", i)
		switch {
		case !h.Kind.Valid():
			bad(field, "%q is not a hold (want dispute, bankruptcy, cease_communication, deceased, attorney or hardship)", h.Kind)
		case holds[h.Kind]:
			bad(field, "%q is listed twice", h.Kind)
		}
		holds[h.Kind] = true
	}
	if a.Holds == nil {
		a.Holds = []nudge.Hold{}
	}
	return ps
}

// NormalizePhone parses a phone number and returns it in E.164. A number
// without a leading + is read as a local number of country (ISO 3166 alpha-2),
// which is then required.
func NormalizePhone(number, country string) (string, error) {
	number = strings.TrimSpace(number)
	if !strings.HasPrefix(number, "+") && country == "" {
		return "", fmt.Errorf("%q is a local number: give it in E.164 (+…) or set address.country", number)
	}
	n, err := phonenumbers.Parse(number, country)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number", number)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
