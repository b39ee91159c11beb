package payment

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/nudgehq/nudge"
)

// Variables a payment URL template may name.
const (
	// VarAccount is the account reference (the lender's account id).
	VarAccount = "account"
	// VarAmount is the amount due as a decimal string ("412.50").
	VarAmount = "amount"
	// VarCurrency is the ISO 4217 code of the amount ("USD").
	VarCurrency = "currency"
)

// MaxURLLength is the longest payment URL template accepted, in bytes.
const MaxURLLength = 2048

// URLVars are the values a payment URL template is rendered with.
type URLVars struct {
	Account  string
	Amount   string
	Currency string
}

// URLTemplate is a lender's payment portal link with placeholders, such as
// https://pay.acme.example/pay?ref={account}&amount={amount}. The syntax is
// RFC 6570 level 1: {name} is replaced by the value of VarAccount,
// VarAmount or VarCurrency, percent-encoded so that every byte but the
// unreserved characters (letters, digits, - . _ ~) is escaped: a value can
// never add a parameter, a path or a fragment. The zero value is no link.
type URLTemplate struct {
	raw   string
	parts []urlPart
}

// urlPart is literal text or, when name is set, a placeholder.
type urlPart struct {
	text string
	name string
}

// ParseURL parses and validates a payment URL template: https only, a host
// without placeholders, no user name or password, only known placeholders,
// balanced braces, no spaces or control characters, at most MaxURLLength
// bytes. Errors say what is wrong without naming the setting; callers add
// the field.
func ParseURL(s string) (URLTemplate, error) {
	switch {
	case s == "":
		return URLTemplate{}, errors.New("is empty")
	case len(s) > MaxURLLength:
		return URLTemplate{}, fmt.Errorf("is longer than %d bytes", MaxURLLength)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return URLTemplate{}, errors.New("has spaces or control characters")
	case strings.Contains(s, "{{") || strings.Contains(s, "}}"):
		return URLTemplate{}, fmt.Errorf("uses double braces: write placeholders with single ones, {%s}", VarAccount)
	}
	t := URLTemplate{raw: s}
	rest := s
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, urlPart{text: rest})
			break
		}
		if rest[open] == '}' {
			return URLTemplate{}, fmt.Errorf("has a } without its {: %q", s)
		}
		if open > 0 {
			t.parts = append(t.parts, urlPart{text: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return URLTemplate{}, fmt.Errorf("has a { without its }: %q", s)
		}
		name := rest[open+1 : open+1+end]
		switch name {
		case VarAccount, VarAmount, VarCurrency:
		default:
			return URLTemplate{}, fmt.Errorf("names an unknown placeholder {%s}: want {%s}, {%s} or {%s}", name, VarAccount, VarAmount, VarCurrency)
		}
		t.parts = append(t.parts, urlPart{name: name})
		rest = rest[open+1+end+1:]
	}
	a, err := url.Parse(t.Render(URLVars{Account: "a", Amount: "1", Currency: "c"}))
	if err != nil {
		return URLTemplate{}, fmt.Errorf("is not a URL: %w", err)
	}
	b, err := url.Parse(t.Render(URLVars{Account: "b", Amount: "2", Currency: "d"}))
	if err != nil {
		return URLTemplate{}, fmt.Errorf("is not a URL: %w", err)
	}
	switch {
	case a.Scheme != "https":
		return URLTemplate{}, fmt.Errorf("must start with https:// (got %q): the borrower pays on it", a.Scheme+":")
	case a.Host == "" || a.Host != b.Host || strings.Contains(a.Host, "{"):
		return URLTemplate{}, errors.New("must name its host without placeholders (https://pay.example/…)")
	case a.User != nil:
		return URLTemplate{}, errors.New("must not carry a user name or password")
	}
	return t, nil
}

// MustParseURL is ParseURL for templates known to be valid; it panics on error.
func MustParseURL(s string) URLTemplate {
	t, err := ParseURL(s)
	if err != nil {
		panic(fmt.Sprintf("payment url %q %v", s, err))
	}
	return t
}

// IsZero reports whether t is no link.
func (t URLTemplate) IsZero() bool { return t.raw == "" }

// String returns the template as written.
func (t URLTemplate) String() string { return t.raw }

// Render returns the link for v, each value percent-encoded (RFC 6570
// simple string expansion); "" for the zero template.
func (t URLTemplate) Render(v URLVars) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.name {
		case "":
			b.WriteString(p.text)
		case VarAccount:
			b.WriteString(escapeUnreserved(v.Account))
		case VarAmount:
			b.WriteString(escapeUnreserved(v.Amount))
		case VarCurrency:
			b.WriteString(escapeUnreserved(v.Currency))
		}
	}
	return b.String()
}

// escapeUnreserved percent-encodes every byte of s but the unreserved
// characters of RFC 3986 (ALPHA / DIGIT / "-" / "." / "_" / "~").
func escapeUnreserved(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// LinkFor returns the lender's payment link for account a (its id as the
// account reference, its amount due and currency), or "" when the lender
// has none or its template does not parse (it is validated where it is set).
func LinkFor(l nudge.Lender, a nudge.Account) string {
	if l.PaymentURL == "" {
		return ""
	}
	t, err := ParseURL(l.PaymentURL)
	if err != nil {
		return ""
	}
	return t.Render(URLVars{Account: a.ID, Amount: a.AmountDue, Currency: a.Currency})
}
