package templates

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bojanz/currency"
	"github.com/goodsign/monday"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// Formatter formats money, dates and phone numbers for one locale. Money comes
// from CLDR through github.com/bojanz/currency; dates use the CLDR-derived
// long date layouts and month names of github.com/goodsign/monday, chosen by
// golang.org/x/text/language matching; phone numbers use libphonenumber
// (github.com/nyaruka/phonenumbers). A Formatter is safe for concurrent use.
type Formatter struct {
	tag    language.Tag
	cldr   *currency.Formatter
	date   monday.Locale
	layout string
	region string
	// dates, shortDates and phones keep what Date, ShortDate and Phone
	// returned: the worker formats the same few due dates and the lender's
	// help numbers for every borrower of a locale, and each costs a pass of
	// monday's layout parser or libphonenumber's (together about a sixth of
	// the rendering in a dispatch run's CPU profile).
	dates, shortDates cache[nudge.Date, string]
	phones            cache[string, string]
	// money keeps Money's recent results: an SMS formats its amount in its
	// text with the menu, in the menu block that text is checked against
	// when it fits, and in the text without the menu when it does not
	// (CLDR's formatter was a sixth of the rendering in a dispatch run's CPU
	// profile).
	money recent[moneyKey, string]
}

// moneyKey is what Money formats.
type moneyKey struct{ amount, code string }

// mondayMatcher matches a language tag to the locales monday knows.
var mondayLocales, mondayMatcher = func() ([]monday.Locale, language.Matcher) {
	// Put en_US first so that it is the matcher's default.
	locs := []monday.Locale{monday.LocaleEnUS}
	tags := []language.Tag{language.AmericanEnglish}
	for _, l := range monday.ListLocales() {
		if l == monday.LocaleEnUS {
			continue
		}
		t, err := language.Parse(strings.ReplaceAll(string(l), "_", "-"))
		if err != nil {
			continue
		}
		locs = append(locs, l)
		tags = append(tags, t)
	}
	return locs, language.NewMatcher(tags)
}()

// isoDateLayout is used for languages that no date library covers.
const isoDateLayout = nudge.DateLayout

// NewFormatter returns a Formatter for the BCP 47 tag locale (en, es-MX, zh-CN).
func NewFormatter(locale string) (*Formatter, error) {
	tag, err := language.Parse(locale)
	if err != nil {
		return nil, fmt.Errorf("locale %q: %w", locale, err)
	}
	return newFormatter(tag), nil
}

// formatterFor returns the Formatter for tag and a borrower in country (ISO
// 3166-1 alpha-2, optional): when tag names no region of its own the
// country's regional formats are used (es for a borrower in the US formats
// "$412.50"), and phone numbers of that country are shown in national form.
// Formatters are made once per tag and country and shared (a Formatter is
// never changed once made), so that the templates bound to them are too (see
// part.bound).
func formatterFor(tag language.Tag, country string) *Formatter {
	f, _ := formatters.get(tag.String()+"/"+country, func() (*Formatter, error) {
		return makeFormatter(tag, country), nil
	})
	return f
}

// formatters caches formatterFor's Formatters by tag and country.
var formatters cache[string, *Formatter]

func makeFormatter(tag language.Tag, country string) *Formatter {
	if country == "" {
		return newFormatter(tag)
	}
	region, err := language.ParseRegion(country)
	if err != nil {
		return newFormatter(tag)
	}
	if _, conf := tag.Region(); conf != language.Exact {
		parts := []any{region}
		base, _ := tag.Base()
		parts = append(parts, base)
		if script, conf := tag.Script(); conf == language.Exact {
			parts = append(parts, script)
		}
		if t, err := language.Compose(parts...); err == nil {
			tag = t
		}
	}
	f := newFormatter(tag)
	f.region = region.String()
	return f
}

func newFormatter(tag language.Tag) *Formatter {
	f := &Formatter{tag: tag, cldr: currency.NewFormatter(currency.NewLocale(tag.String())), layout: isoDateLayout}
	if _, idx, conf := mondayMatcher.Match(tag); conf >= language.High {
		f.date = mondayLocales[idx]
		if l, ok := monday.LongFormatsByLocale[f.date]; ok {
			f.layout = l
		}
	}
	if r, conf := tag.Region(); conf >= language.Low {
		f.region = r.String()
	}
	return f
}

// Locale returns the BCP 47 tag the Formatter formats for.
func (f *Formatter) Locale() string { return f.tag.String() }

// Money formats the decimal string amount in the ISO 4217 currency code, such
// as "$412.50" (en), "412,50 US$" (es) or "US$412.50" (zh-CN).
func (f *Formatter) Money(amount, code string) (string, error) {
	if strings.TrimSpace(amount) == "" {
		return "", errors.New("money: amount is empty")
	}
	if code == "" {
		return "", errors.New("money: currency is empty")
	}
	return f.money.get(moneyKey{amount, code}, func() (string, error) {
		a, err := currency.NewAmount(strings.TrimSpace(amount), strings.ToUpper(code))
		if err != nil {
			return "", fmt.Errorf("money: %w", err)
		}
		return f.cldr.Format(a), nil
	})
}

// Date formats d as a long date: "June 1, 2026" (en), "1 de junio de 2026"
// (es), "2026年6月1日" (zh-CN). Languages without date data get 2026-06-01.
func (f *Formatter) Date(d nudge.Date) (string, error) {
	if d.IsZero() {
		return "", errors.New("date: date is empty")
	}
	return f.dates.get(d, func() (string, error) { return f.longDate(d), nil })
}

// longDate is Date without its check and cache.
func (f *Formatter) longDate(d nudge.Date) string {
	t := d.In(time.UTC, 12, 0)
	if f.date == "" {
		return t.Format(f.layout)
	}
	return monday.Format(t, f.layout, f.date)
}

// monthFirstRegions write numeric dates month first (12/05 is December 5),
// as package reply reads them: the US and its territories, the Philippines,
// Canada, China, Taiwan, Japan, Korea and Mongolia.
var monthFirstRegions = map[string]bool{
	"US": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true, "FM": true, "MH": true,
	"PW": true, "PH": true, "CA": true, "CN": true, "TW": true, "JP": true, "KR": true, "MN": true,
}

// ShortDate formats d in the few characters an SMS menu can afford, without
// the year: the abbreviated weekday and the numeric date in the order the
// borrower reads it, the order in which package reply reads their answers
// ("Fri 12/04" in en-US, "Fri 04/12" in en-GB, "vie 04/12" in Spanish
// wherever the borrower lives), or "12月4日" in Chinese.
func (f *Formatter) ShortDate(d nudge.Date) (string, error) {
	if d.IsZero() {
		return "", errors.New("short date: date is empty")
	}
	return f.shortDates.get(d, func() (string, error) { return f.shortDate(d), nil })
}

// shortDate is ShortDate without its check and cache.
func (f *Formatter) shortDate(d nudge.Date) string {
	base, _ := f.tag.Base()
	if base.String() == "zh" {
		return fmt.Sprintf("%d月%d日", int(d.Month), d.Day)
	}
	layout := "02/01"
	if base.String() != "es" && monthFirstRegions[f.region] {
		layout = "01/02"
	}
	t := d.In(time.UTC, 12, 0)
	if f.date == "" {
		return t.Format("Mon " + layout)
	}
	return monday.Format(t, "Mon "+layout, f.date)
}

// Phone formats an E.164 number for reading: in national form when the number
// belongs to the locale's region, in international form otherwise. A number
// that cannot be parsed is returned as given.
func (f *Formatter) Phone(number string) (string, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return "", errors.New("phone: number is empty")
	}
	return f.phones.get(number, func() (string, error) { return f.phone(number), nil })
}

// phone is Phone without its check and cache.
func (f *Formatter) phone(number string) string {
	n, err := phonenumbers.Parse(number, f.region)
	if err != nil {
		return number // an unparseable number is shown as the lender wrote it
	}
	if phonenumbers.GetRegionCodeForNumber(n) == f.region {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// SpokenDigits formats a phone number for text-to-speech: each digit apart,
// groups separated by commas so the voice pauses ("8 0 0, 5 5 5, 0 1 0 0").
func (f *Formatter) SpokenDigits(number string) (string, error) {
	p, err := f.Phone(number)
	if err != nil {
		return "", err
	}
	var groups []string
	for _, g := range strings.FieldsFunc(p, func(r rune) bool { return r < '0' || r > '9' }) {
		groups = append(groups, strings.Join(strings.Split(g, ""), " "))
	}
	if len(groups) == 0 {
		return "", fmt.Errorf("phone: %q has no digits", number)
	}
	return strings.Join(groups, ", "), nil
}

// KeypadDate formats d as the four digits month then day that a borrower
// enters on the keypad, spaced for speech ("0 6, 1 2" for June 12).
func (f *Formatter) KeypadDate(d nudge.Date) (string, error) {
	if d.IsZero() {
		return "", errors.New("keypad date: date is empty")
	}
	return fmt.Sprintf("%d %d, %d %d", int(d.Month)/10, int(d.Month)%10, d.Day/10, d.Day%10), nil
}

// plainSpaces replaces the no-break spaces CLDR puts in money and dates with
// ordinary spaces, so that an SMS stays in GSM-7 and speech is unaffected.
var plainSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2009", " ")
