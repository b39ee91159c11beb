package account

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// Limits of an account document, checked before anything is written so the
// database never has to refuse a value. Lengths count Unicode characters.
const (
	// MaxIDLength bounds id and lender.
	MaxIDLength = 64
	// MaxNameLength bounds borrower.name and the other short text fields:
	// portfolio, borrower.language, borrower.timezone, address.region and
	// address.postal_code.
	MaxNameLength = 200
	// MaxTextLength bounds free text: the reason of a hold.
	MaxTextLength = 2000
	// MaxAddressLength bounds a contact's address (the longest email
	// address SMTP carries).
	MaxAddressLength = 254
	// MaxContacts is how many contacts an account may have.
	MaxContacts = 10
)

// The range of due dates accepted, inclusive.
var (
	MinDueDate = nudge.Date{Year: 1900, Month: 1, Day: 1}
	MaxDueDate = nudge.Date{Year: 2200, Month: 12, Day: 31}
)

// Problem is one thing wrong with an account document.
type Problem struct {
	// Row is the 1-based position of the account in its file (0 for a single
	// document, or for a problem of the whole file).
	Row int
	// Field is the JSON path of the field, e.g. "contacts[1].address".
	Field string
	// Message says what is wrong, without the row and field.
	Message string
}

// String formats the problem as "row N: field: message".
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

// Error lists the problems, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	amountPattern   = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// quoteLimit is how many characters of a value a message quotes.
const quoteLimit = 40

// quote quotes s for a message, cut to its first quoteLimit characters so a
// huge value is never echoed back whole.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= quoteLimit {
		return fmt.Sprintf("%q", s)
	}
	n, i := 0, 0
	for i = range s {
		if n == quoteLimit {
			break
		}
		n++
	}
	return fmt.Sprintf("%q…", s[:i])
}

// textProblem says what is wrong with a text value, or "" when nothing is:
// it must be valid UTF-8, at most limit characters long, and free of NUL
// and every other control character but tabs and line breaks.
func textProblem(s string, limit int) string {
	if msg := utf8Problem(s); msg != "" {
		return msg
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Sprintf("is %d characters long; the limit is %d", n, limit)
	}
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == 0:
			return fmt.Sprintf("contains a NUL character (U+0000) at character %d", pos)
		case r == '\t' || r == '\n' || r == '\r':
		case r >= 0x80 && r <= 0x9F:
			return fmt.Sprintf("contains the control character U+%04X at character %d (a Windows-1252 file read as Latin-1? give encoding=windows-1252)", r, pos)
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character U+%04X at character %d", r, pos)
		}
	}
	return ""
}

// utf8Problem says where s stops being valid UTF-8, or "" when it is.
func utf8Problem(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Sprintf("is not valid UTF-8 (byte 0x%02X at byte %d)", s[i], i+1)
		}
		i += size
	}
	return ""
}

// Normalize validates a and rewrites it into canonical form: trimmed strings,
// upper-case country and currency codes, E.164 phone numbers, canonical
// language tags, lower-case email addresses and status "active" when empty.
// It returns every problem found; a is only meaningful when there are none.
// A value Normalize accepts is one the store can write: valid UTF-8 without
// NUL, within the length limits, a due date from MinDueDate to MaxDueDate.
func Normalize(a *nudge.Account) Problems {
	var ps Problems
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	// short checks a short text field, reporting it and answering false
	// when it is not text Normalize can look into.
	short := func(field, s string, limit int) bool {
		if msg := textProblem(s, limit); msg != "" {
			bad(field, "%s", msg)
			return false
		}
		return true
	}

	a.ID = strings.TrimSpace(a.ID)
	a.Lender = strings.TrimSpace(a.Lender)
	a.Portfolio = strings.TrimSpace(a.Portfolio)
	checkID := func(field, v string) {
		switch {
		case v == "":
			bad(field, "is required")
		case !short(field, v, MaxIDLength):
		case !idPattern.MatchString(v):
			bad(field, "%s must be 1-%d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", quote(v), MaxIDLength)
		}
	}
	checkID("id", a.ID)
	checkID("lender", a.Lender)
	short("portfolio", a.Portfolio, MaxNameLength)

	a.Borrower.Name = strings.TrimSpace(a.Borrower.Name)
	if a.Borrower.Name == "" {
		bad("borrower.name", "is required")
	} else {
		short("borrower.name", a.Borrower.Name, MaxNameLength)
	}
	if l := strings.TrimSpace(a.Borrower.Language); l != "" && short("borrower.language", l, MaxNameLength) {
		tag, err := language.Parse(l)
		if err != nil {
			bad("borrower.language", "%s is not a language tag like en, es or zh-CN", quote(l))
		} else {
			a.Borrower.Language = tag.String()
		}
	}
	if tz := strings.TrimSpace(a.Borrower.Timezone); tz != "" {
		if short("borrower.timezone", tz, MaxNameLength) {
			if _, err := nudge.LoadLocation(tz); err != nil || tz == "Local" {
				bad("borrower.timezone", "%s is not an IANA time zone like America/New_York", quote(tz))
			}
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
			bad("address.country", "%s is not a two-letter ISO 3166 country code", quote(a.Address.Country))
		default:
			country = a.Address.Country
		}
		short("address.region", a.Address.Region, MaxNameLength)
		short("address.postal_code", a.Address.PostalCode, MaxNameLength)
	}

	switch {
	case len(a.Contacts) == 0:
		bad("contacts", "at least one contact is required")
	case len(a.Contacts) > MaxContacts:
		bad("contacts", "has %d contacts; the limit is %d", len(a.Contacts), MaxContacts)
	}
	seen := map[string]int{}
	for i := range a.Contacts {
		c := &a.Contacts[i]
		field := fmt.Sprintf("contacts[%d]", i)
		c.Address = strings.TrimSpace(c.Address)
		if !c.Channel.Valid() {
			bad(field+".channel", "%s is not a channel (want sms, voice or email)", quote(string(c.Channel)))
			continue
		}
		switch c.State {
		case nudge.ContactOK, nudge.ContactWrongParty, nudge.ContactUndeliverable:
		default:
			bad(field+".state", "%s is not a contact state (want wrong_party or undeliverable, or leave it out)", quote(string(c.State)))
		}
		if c.Address == "" {
			bad(field+".address", "is required")
			continue
		}
		if !short(field+".address", c.Address, MaxAddressLength) {
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
				bad(field+".address", "%s is not a valid email address", quote(c.Address))
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
		bad("currency", "%s is not a three-letter ISO 4217 currency code", quote(a.Currency))
	}
	a.AmountDue = strings.TrimSpace(a.AmountDue)
	if !amountPattern.MatchString(a.AmountDue) {
		bad("amount_due", "%s is not a decimal amount like \"412.50\"", quote(a.AmountDue))
	}
	switch {
	case a.DueDate.IsZero():
		bad("due_date", "is required")
	case a.DueDate.Before(MinDueDate) || a.DueDate.After(MaxDueDate):
		bad("due_date", "%s is outside the accepted range %s to %s", a.DueDate, MinDueDate, MaxDueDate)
	}
	if a.Status == "" {
		a.Status = nudge.StatusActive
	} else if !a.Status.Valid() {
		bad("status", "%s is not a status (want active, paid, closed or charged_off)", quote(string(a.Status)))
	}
	holds := map[nudge.HoldKind]bool{}
	for i, h := range a.Holds {
		field := fmt.Sprintf("holds[%d]", i)
		switch {
		case !h.Kind.Valid():
			bad(field, "%s is not a hold (want dispute, bankruptcy, cease_communication, deceased, attorney or hardship)", quote(string(h.Kind)))
		case holds[h.Kind]:
			bad(field, "%s is listed twice", quote(string(h.Kind)))
		}
		holds[h.Kind] = true
		if msg := textProblem(h.Reason, MaxTextLength); msg != "" {
			bad(field+".reason", "%s", msg)
		}
	}
	if a.Holds == nil {
		a.Holds = []nudge.Hold{}
	}
	return ps
}

// NormalizePhone parses a phone number and returns it in E.164. A number
// without a leading + is read as a local number of country (ISO 3166 alpha-2),
// which is then required. A number with an extension or with letters (a
// vanity number such as +1 800 FLOWERS) is refused rather than rewritten:
// Nudge cannot dial an extension, and letters may stand for digits the
// lender did not mean.
func NormalizePhone(number, country string) (string, error) {
	number = strings.TrimSpace(number)
	if msg := textProblem(number, MaxAddressLength); msg != "" {
		return "", fmt.Errorf("%s", msg)
	}
	n, err := phonenumbers.Parse(number, country)
	if err == nil && n.GetExtension() != "" {
		return "", fmt.Errorf("%s has an extension (%s): Nudge cannot dial extensions; give the number without it", quote(number), n.GetExtension())
	}
	digits := number
	if len(digits) > 4 && strings.EqualFold(digits[:4], "tel:") {
		digits = digits[4:]
	}
	if strings.ContainsFunc(digits, unicode.IsLetter) {
		return "", fmt.Errorf("%s has letters (a vanity number like +1 800 FLOWERS?): give the number in digits", quote(number))
	}
	if !strings.HasPrefix(digits, "+") && country == "" {
		return "", fmt.Errorf("%s is a local number: give it in E.164 (+…) or set address.country", quote(number))
	}
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%s is not a valid phone number", quote(number))
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
