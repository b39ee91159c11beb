package templates

import (
	"cmp"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/nudgehq/nudge"
)

// Rendered is a template rendered for one borrower.
type Rendered struct {
	// Name and Channel identify the template.
	Name    string
	Channel nudge.ChannelKind
	// Locale is the pack locale whose text was used ("es").
	Locale string
	// Version names the template's source as rendered: name, pack locale
	// and the first 12 hex digits of a SHA-256 over its parts and the
	// locale's shared blocks ("due_sms@es:3f2a9c1b04de"). It changes when
	// the pack or a lender's override changes what the template says.
	Version string
	// FormatLocale is the BCP 47 tag money and dates were formatted for: the
	// borrower's regional variant of Locale when one was asked for ("es-US"),
	// else Locale.
	FormatLocale string
	// Subject is the email subject (email only).
	Subject string
	// Text is the SMS body or the email text part.
	Text string
	// HTML is the email HTML part (email only).
	HTML string
	// Parts holds the voice script by part name (voice only; see VoiceParts).
	Parts map[string]string
	// Segments, Encoding and Length describe the SMS body (SMS only); see
	// CountSegments.
	Segments int
	Encoding Encoding
	Length   int
	// Budget is the template's segment budget (SMS only; see Pack.Budget).
	// Validate holds every template to it with LongData; a borrower's real
	// data may still go over it, which callers may refuse or warn about.
	Budget int
	// Transliterated reports that the SMS body was transliterated to GSM-7
	// (see Transliterate): the pack transliterates its locale, and as
	// written it needed more segments than its budget.
	Transliterated bool
	// Menu is the numbered menu the SMS body shows (SMS only), nil when it
	// shows none: the template declares no menu, does not write the
	// locale's BlockMenu out, or would need more segments than its budget
	// with it. Callers store it with the message, so that a reply "1"
	// means what the borrower was offered.
	Menu nudge.Menu
}

// OverBudget reports whether an SMS needs more segments than its budget.
func (r Rendered) OverBudget() bool {
	return r.Channel == nudge.SMS && r.Budget > 0 && r.Segments > r.Budget
}

// stubFuncs declares the template functions at parse time; Render binds the
// real, locale-aware ones.
var stubFuncs = texttemplate.FuncMap{
	"money":  func(string) (string, error) { return "", errors.New("money: not bound") },
	"date":   func(nudge.Date) (string, error) { return "", errors.New("date: not bound") },
	"phone":  func(string) (string, error) { return "", errors.New("phone: not bound") },
	"digits": func(string) (string, error) { return "", errors.New("digits: not bound") },
	"keypad": func(nudge.Date) (string, error) { return "", errors.New("keypad: not bound") },
	"shortdate": func(nudge.Date) (string, error) {
		return "", errors.New("shortdate: not bound")
	},
}

// funcs returns the template functions bound to f and the data's currency.
// Text output gets ordinary spaces instead of CLDR's no-break spaces.
func funcs(f *Formatter, currency string, plain bool) map[string]any {
	clean := func(s string, err error) (string, error) {
		if plain {
			s = plainSpaces.Replace(s)
		}
		return s, err
	}
	return map[string]any{
		"money":     func(amount string) (string, error) { return clean(f.Money(amount, currency)) },
		"date":      func(d nudge.Date) (string, error) { return clean(f.Date(d)) },
		"phone":     func(n string) (string, error) { return clean(f.Phone(n)) },
		"digits":    f.SpokenDigits,
		"keypad":    f.KeypadDate,
		"shortdate": func(d nudge.Date) (string, error) { return clean(f.ShortDate(d)) },
	}
}

// Render renders the template name for channel ch in the best locale for
// langs (the borrower's language, then the lender's default: see Locales),
// falling back to FallbackLocale. It returns ErrNoTemplate when the pack has
// no such template and ErrSMSTooLong when an SMS body exceeds MaxSMSChars;
// a field or map key the template names but d lacks is an error.
func (p *Pack) Render(name string, ch nudge.ChannelKind, langs []string, d Data) (Rendered, error) {
	k := key{name, ch}
	byLocale, ok := p.templates[k]
	if !ok {
		return Rendered{}, fmt.Errorf("template %q for %s: %w", name, ch, ErrNoTemplate)
	}
	locale, tag, ok := p.matchers[k].match(langs)
	if !ok {
		return Rendered{}, fmt.Errorf("template %q for %s: no locale for %v among %v: %w", name, ch, langs, p.Locales(name, ch), ErrNoTemplate)
	}
	return p.render(byLocale[locale], name, ch, formatterFor(tag, d.Country), d)
}

// render renders one localized template with formatter f.
func (p *Pack) render(l *localized, name string, ch nudge.ChannelKind, f *Formatter, d Data) (Rendered, error) {
	r := Rendered{Name: name, Channel: ch, Locale: l.locale, FormatLocale: f.Locale(), Version: name + "@" + l.locale + ":" + l.version}
	switch ch {
	case nudge.SMS:
		r.Budget = p.Budget(name)
		body, menu, err := p.smsWithMenu(l, name, f, d, r.Budget)
		if err != nil {
			return Rendered{}, err
		}
		r.Text, r.Transliterated, r.Menu = body.text, body.transliterated, menu
		if n := utf16Len(body.text); n > MaxSMSChars {
			return Rendered{}, fmt.Errorf("%s: %d characters, over Twilio's %d: %w", l.parts[PartText].src.origin, n, MaxSMSChars, ErrSMSTooLong)
		}
		r.Segments, r.Encoding, r.Length = body.segments, body.encoding, body.length
	case nudge.Email:
		d.Menu = nil
		subject, err := l.parts[PartSubject].exec(f, d, "")
		if err != nil {
			return Rendered{}, err
		}
		if strings.ContainsAny(subject, "\r\n") {
			return Rendered{}, fmt.Errorf("%s: subject has a line break", l.parts[PartSubject].src.origin)
		}
		if subject == "" {
			return Rendered{}, fmt.Errorf("%s: subject is empty", l.parts[PartSubject].src.origin)
		}
		text, err := l.parts[PartText].exec(f, d, "")
		if err != nil {
			return Rendered{}, err
		}
		html, err := l.parts[PartHTML].execHTML(f, d, "")
		if err != nil {
			return Rendered{}, err
		}
		r.Subject, r.Text, r.HTML = subject, squeezeBlankLines(text), html
	case nudge.Voice:
		d.Menu = nil
		r.Parts = make(map[string]string, len(l.parts))
		for name, pt := range l.parts {
			s, err := pt.exec(f, d, "")
			if err != nil {
				return Rendered{}, err
			}
			r.Parts[name] = s
		}
	default:
		return Rendered{}, fmt.Errorf("template %q: unknown channel %q", name, ch)
	}
	return r, nil
}

// smsBody is one rendering of an SMS text part.
type smsBody struct {
	raw            string // as the template wrote it
	text           string // as sent: raw, transliterated when over budget
	transliterated bool
	segments       int
	encoding       Encoding
	length         int
}

// smsText renders the text part of an SMS template with d, transliterated to
// GSM-7 when the pack transliterates its locale and it is over budget.
func (p *Pack) smsText(l *localized, f *Formatter, d Data, budget int) (smsBody, error) {
	raw, err := l.parts[PartText].exec(f, d, "")
	if err != nil {
		return smsBody{}, err
	}
	b := smsBody{raw: raw, text: raw}
	b.segments, b.encoding, b.length = CountSegments(raw)
	if b.segments > budget && p.Transliterates(l.locale) {
		if b.text, b.transliterated = fitBudget(raw, budget); b.transliterated {
			b.segments, b.encoding, b.length = CountSegments(b.text)
		}
	}
	return b, nil
}

// smsWithMenu renders an SMS with the template's declared menu when the
// text writes the menu out and still fits the budget, and returns the menu
// shown; otherwise it renders it without a menu and returns a nil menu. A
// menu is never returned that the text does not show.
func (p *Pack) smsWithMenu(l *localized, name string, f *Formatter, d Data, budget int) (smsBody, nudge.Menu, error) {
	d.Menu = p.menuItems(name, d)
	if len(d.Menu) > 0 {
		b, err := p.smsText(l, f, d, budget)
		if err != nil {
			return smsBody{}, nil, err
		}
		if b.segments <= budget && menuShown(l, f, d, b.raw) {
			menu := make(nudge.Menu, len(d.Menu))
			for _, it := range d.Menu {
				menu[it.Key] = nudge.MenuOption{Intent: it.Intent, Date: it.Date, Amount: it.Amount}
			}
			return b, menu, nil
		}
	}
	d.Menu = nil
	b, err := p.smsText(l, f, d, budget)
	return b, nil, err
}

// menuShown reports whether raw, an SMS rendered with d's menu, writes the
// menu out: whether it holds the menu block rendered alone.
func menuShown(l *localized, f *Formatter, d Data, raw string) bool {
	block, err := l.parts[PartText].exec(f, d, BlockMenu)
	return err == nil && block != "" && strings.Contains(raw, block)
}

// menuItems returns the options of the menu the template name declares for
// d, keyed 1, 2, … in the declared order. A promise option needs a date and
// an amount; without them it is left out and the next option takes its key.
func (p *Pack) menuItems(name string, d Data) []MenuItem {
	var items []MenuItem
	for _, in := range p.sms.Menus[name] {
		it := MenuItem{Intent: in}
		if in == nudge.IntentPromise {
			it.Date, it.Amount = d.PromiseDate, cmp.Or(d.PromiseAmount, d.Amount)
			if it.Date.IsZero() || it.Amount == "" {
				continue
			}
		}
		it.Key = strconv.Itoa(len(items) + 1)
		items = append(items, it)
	}
	return items
}

// exec runs the part (or, when block is set, the shared block of that name)
// with text/template and trims the result.
func (pt *part) exec(f *Formatter, d Data, block string) (string, error) {
	bt, err := pt.boundTo(f, d.Currency, false)
	if err != nil {
		return "", err
	}
	t := bt.text
	var b strings.Builder
	if block == "" {
		err = t.Execute(&b, d)
	} else {
		err = t.ExecuteTemplate(&b, block, d)
	}
	if err != nil {
		return "", fileError(pt.src.origin, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// execHTML is exec with html/template, for the HTML part.
func (pt *part) execHTML(f *Formatter, d Data, block string) (string, error) {
	bt, err := pt.boundTo(f, d.Currency, true)
	if err != nil {
		return "", err
	}
	t := bt.html
	var b strings.Builder
	if block == "" {
		err = t.Execute(&b, d)
	} else {
		err = t.ExecuteTemplate(&b, block, d)
	}
	if err != nil {
		return "", fileError(pt.src.origin, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// boundTemplate is a part's template (text, or html for the HTML part) with
// its functions bound to one formatter and currency.
type boundTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// boundKey names a boundTemplate: formatterFor shares its Formatters, so
// the pointer names the locale and country.
type boundKey struct {
	f        *Formatter
	currency string
	html     bool
}

// boundTo returns the part's template with its functions bound to f and
// currency: a clone made once and kept (templates may run in parallel once
// their functions are set), or, past maxCached clones, a fresh one.
func (pt *part) boundTo(f *Formatter, currency string, html bool) (boundTemplate, error) {
	return pt.bound.get(boundKey{f, currency, html}, func() (boundTemplate, error) {
		var bt boundTemplate
		if html {
			t, err := pt.html.Clone()
			if err != nil {
				return bt, fileError(pt.src.origin, err)
			}
			bt.html = t.Funcs(htmltemplate.FuncMap(funcs(f, currency, false)))
		} else {
			t, err := pt.text.Clone()
			if err != nil {
				return bt, fileError(pt.src.origin, err)
			}
			bt.text = t.Funcs(funcs(f, currency, true))
		}
		return bt, nil
	})
}

var blankLines = regexp.MustCompile(`\n[ \t]*(\n[ \t]*)+\n`)

// squeezeBlankLines trims trailing spaces from lines and leaves at most one
// blank line between paragraphs, so optional sections leave no gaps.
func squeezeBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
}
