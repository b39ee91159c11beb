package templates

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// optOutKeywords are the words an opt-out instruction must name (COMPLIANCE.md).
var optOutKeywords = []string{"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT", "ALTO", "BAJA", "TD", "退订", "取消"}

// debtParts are the voice parts that must say nothing about a debt: the
// limited-content voicemail (Reg F §1006.2(j)) and the wrong-party message.
var debtParts = []string{PartLimitedVoicemail, PartWrongParty}

// disclosureParts are the voice parts that must carry the disclosure.
var disclosureParts = []string{PartMessage, PartVoicemail}

// Validate checks every template of the pack in every locale: each has the
// parts its channel needs and renders with SampleData; every SMS fits its
// segment budget (Pack.Budget) when rendered with LongData, without and with
// each disclosure variant, an error naming the template and the locale
// otherwise; every SMS (except OptOutConfirmSMS) contains the locale's
// opt-out text; every email's text and HTML parts contain the unsubscribe
// link; SMS, email and the voice message and voicemail carry the
// debt-collector disclosure when Data.Disclosure is set (both variants; an
// SMS may carry its BlockSMSDisclosure form instead); the limited-content
// voicemail and the wrong-party message mention neither the amount, the due
// date, the disclosure nor (for the voicemail) the lender, and the
// limited-content voicemail names the business (Data.BusinessName), the
// person to call back, the number and carries BlockVoicemailOptOut. Errors
// name the file.
func (p *Pack) Validate() error {
	var errs []error
	keys := make([]key, 0, len(p.templates))
	for k := range p.templates {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].ch < keys[j].ch
	})
	for _, k := range keys {
		for _, loc := range p.Locales(k.name, k.ch) {
			errs = append(errs, p.validateOne(k, p.templates[k][loc])...)
		}
	}
	return errors.Join(errs...)
}

func (p *Pack) validateOne(k key, l *localized) []error {
	var errs []error
	for _, want := range channelParts[k.ch] {
		if _, ok := l.parts[want]; !ok {
			errs = append(errs, fmt.Errorf("%s: missing %s part %q of template %q", filepath.Join(l.dir, k.name+"."+want+".tmpl"), k.ch, want, k.name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	sample := SampleData()
	for _, k := range extraKeys(l) {
		sample.Extra[k] = "sample " + k
	}
	f := formatterFor(language.Make(l.locale), sample.Country)
	if _, err := p.render(l, k.name, k.ch, f, sample); err != nil {
		return []error{err}
	}
	anyPart := l.parts[channelParts[k.ch][0]]
	if k.ch == nudge.SMS {
		if err := p.checkBudget(l, k.name, extraKeys(l)); err != nil {
			errs = append(errs, err)
		}
	}
	if k.ch == nudge.SMS && len(p.sms.Menus[k.name]) > 0 {
		errs = append(errs, p.checkMenu(l, k.name, f, sample)...)
	}
	if k.ch == nudge.SMS && k.name == WrongNumberSMS {
		return append(errs, p.checkStranger(l, f, sample)...)
	}

	// Opt-out text and unsubscribe link.
	switch k.ch {
	case nudge.SMS:
		if k.name != OptOutConfirmSMS {
			errs = append(errs, p.checkOptOut(l, f, sample)...)
		}
	case nudge.Email:
		r, _ := p.render(l, k.name, k.ch, f, sample)
		if !strings.Contains(r.Text, sample.UnsubscribeURL) {
			errs = append(errs, fmt.Errorf("%s: email text does not contain the unsubscribe link {{.UnsubscribeURL}}", l.parts[PartText].src.origin))
		}
		if !strings.Contains(r.HTML, sample.UnsubscribeURL) {
			errs = append(errs, fmt.Errorf("%s: email HTML does not contain the unsubscribe link {{.UnsubscribeURL}}", l.parts[PartHTML].src.origin))
		}
	case nudge.Voice:
		errs = append(errs, p.checkLimitedVoicemail(l, f, sample)...)
	}

	// Disclosure, in both variants.
	for _, first := range []bool{false, true} {
		d := sample
		d.Disclosure, d.FirstContact = true, first
		variant := "subsequent"
		if first {
			variant = "first-contact"
		}
		want, err := anyPart.exec(f, d, BlockDisclosure)
		if err != nil || want == "" {
			errs = append(errs, fmt.Errorf("%s: locale %s must define a non-empty {{define %q}} block for the %s disclosure (in %s/<file>.tmpl): %w", anyPart.src.origin, l.locale, BlockDisclosure, variant, l.locale, emptyBlock(err)))
			break
		}
		// An SMS may carry the shorter SMS form instead, where the locale has one.
		short := ""
		if k.ch == nudge.SMS && anyPart.text.Lookup(BlockSMSDisclosure) != nil {
			if short, err = anyPart.exec(f, d, BlockSMSDisclosure); err != nil || short == "" {
				errs = append(errs, fmt.Errorf("%s: the {{define %q}} block of locale %s must render the %s disclosure: %w", anyPart.src.origin, BlockSMSDisclosure, l.locale, variant, emptyBlock(err)))
				break
			}
		}
		r, err := p.render(l, k.name, k.ch, f, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("with the %s disclosure: %w", variant, err))
			continue
		}
		need := map[string]string{}
		switch k.ch {
		case nudge.SMS:
			need[PartText] = r.Text
		case nudge.Email:
			need[PartText] = r.Text
			html, err := l.parts[PartHTML].execHTML(f, d, BlockDisclosure)
			if err == nil && !strings.Contains(r.HTML, html) {
				errs = append(errs, fmt.Errorf("%s: email HTML lacks the %s debt-collector disclosure %q", l.parts[PartHTML].src.origin, variant, html))
			}
		case nudge.Voice:
			for _, pn := range disclosureParts {
				need[pn] = r.Parts[pn]
			}
			errs = append(errs, p.checkNoDebt(l, f, d, r, want)...)
		}
		for _, pn := range sortedKeys(need) {
			if !carries(need[pn], want, r.Transliterated) && (short == "" || !carries(need[pn], short, r.Transliterated)) {
				also := ""
				if short != "" {
					also = fmt.Sprintf(" (or its SMS form %q)", short)
				}
				errs = append(errs, fmt.Errorf("%s: lacks the %s debt-collector disclosure %q%s", l.parts[pn].src.origin, variant, want, also))
			}
		}
	}
	return errs
}

// carries reports whether text contains s, transliterated to GSM-7 when the
// text was.
func carries(text, s string, transliterated bool) bool {
	if strings.Contains(text, s) {
		return true
	}
	t, _ := Transliterate(s)
	return transliterated && strings.Contains(text, t)
}

// checkOptOut checks that an SMS renders the locale's opt-out block and that
// the block names an opt-out keyword.
func (p *Pack) checkOptOut(l *localized, f *Formatter, d Data) []error {
	pt := l.parts[PartText]
	want, err := pt.exec(f, d, BlockOptOut)
	if err != nil || want == "" {
		return []error{fmt.Errorf("%s: locale %s must define a non-empty {{define %q}} block (in %s/<file>.tmpl): %w", pt.src.origin, l.locale, BlockOptOut, l.locale, emptyBlock(err))}
	}
	upper := strings.ToUpper(want)
	if !slices.ContainsFunc(optOutKeywords, func(k string) bool { return strings.Contains(upper, k) }) {
		return []error{fmt.Errorf("%s: opt-out text %q of locale %s names no opt-out keyword (%s)", pt.src.origin, want, l.locale, strings.Join(optOutKeywords, ", "))}
	}
	text, err := pt.exec(f, d, "")
	if err != nil {
		return []error{err}
	}
	if !strings.Contains(text, want) {
		return []error{fmt.Errorf("%s: SMS does not contain the opt-out text %q", pt.src.origin, want)}
	}
	return nil
}

// checkMenu checks an SMS template that declares a menu: its text writes
// the locale's BlockMenu out, and the block names every key of the menu
// and renders nothing for an empty one.
func (p *Pack) checkMenu(l *localized, name string, f *Formatter, d Data) []error {
	pt := l.parts[PartText]
	if !calls(pt.text, pt.text.Name(), BlockMenu, map[string]bool{}) {
		if lenderFile(pt.src.origin) && !lenderFile(p.sms.menuFrom[name]) {
			// A lender's own copy of a template the defaults give a menu
			// offers none: its text is the lender's to write, and no menu
			// is stored that the text does not show.
			return nil
		}
		return []error{fmt.Errorf("%s: template %s declares a menu (sms.templates.%s.menu in %s) but does not write it out with {{template %q .}}",
			pt.src.origin, name, name, SettingsFile, BlockMenu)}
	}
	if pt.text.Lookup(BlockMenu) == nil {
		return []error{fmt.Errorf("%s: template %s declares a menu (sms.templates.%s.menu in %s) but locale %s defines no {{define %q}} block (in %s/<file>.tmpl)",
			pt.src.origin, name, name, SettingsFile, l.locale, BlockMenu, l.locale)}
	}
	d.Menu = p.menuItems(name, d)
	block, err := pt.exec(f, d, BlockMenu)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, it := range d.Menu {
		if !strings.Contains(block, it.Key) {
			errs = append(errs, fmt.Errorf("%s: the {{define %q}} block of locale %s does not name key %s (%s): %q", pt.src.origin, BlockMenu, l.locale, it.Key, it.Intent, block))
		}
	}
	d.Menu = nil
	switch empty, err := pt.exec(f, d, BlockMenu); {
	case err != nil:
		errs = append(errs, err)
	case empty != "":
		errs = append(errs, fmt.Errorf("%s: the {{define %q}} block of locale %s must render nothing without a menu, not %q", pt.src.origin, BlockMenu, l.locale, empty))
	}
	return errs
}

// lenderFile reports whether a file named in errors as origin is a
// lender's rather than one of the embedded default pack.
func lenderFile(origin string) bool {
	return !strings.HasPrefix(origin, defaultOrigin+string(filepath.Separator)) && !strings.HasPrefix(origin, defaultOrigin+"/")
}

// calls reports whether the template called name in set, or one it calls,
// invokes the template block.
func calls(set *texttemplate.Template, name, block string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	t := set.Lookup(name)
	if t == nil || t.Tree == nil {
		return false
	}
	found := false
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if found || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			found = n.Name == block || calls(set, n.Name, block, seen)
		}
	}
	walk(t.Root)
	return found
}

// checkNoDebt checks that the parts that may be heard by someone other than
// the borrower reveal nothing about a debt.
func (p *Pack) checkNoDebt(l *localized, f *Formatter, d Data, r Rendered, disclosure string) []error {
	var errs []error
	amount, _ := f.Money(d.Amount, d.Currency)
	due, _ := f.Date(d.DueDate)
	forbidden := map[string]string{
		"the amount":     plainSpaces.Replace(amount),
		"the raw amount": d.Amount,
		"the due date":   plainSpaces.Replace(due),
		"the disclosure": disclosure,
	}
	for _, pn := range debtParts {
		checks := maps.Clone(forbidden)
		if pn == PartLimitedVoicemail {
			checks["the lender's name"] = d.LenderName
		}
		for _, what := range sortedKeys(checks) {
			if s := checks[what]; s != "" && strings.Contains(r.Parts[pn], s) {
				errs = append(errs, fmt.Errorf("%s: must not mention %s (%q): it may be heard by someone other than the borrower", l.parts[pn].src.origin, what, s))
			}
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkStranger checks that a message meant for someone who is not the
// borrower reveals nothing about the borrower or a debt.
func (p *Pack) checkStranger(l *localized, f *Formatter, d Data) []error {
	d.Disclosure, d.FirstContact = true, true
	pt := l.parts[PartText]
	text, err := pt.exec(f, d, "")
	if err != nil {
		return []error{err}
	}
	amount, _ := f.Money(d.Amount, d.Currency)
	due, _ := f.Date(d.DueDate)
	disclosure, _ := pt.exec(f, d, BlockDisclosure)
	smsDisclosure := ""
	if pt.text.Lookup(BlockSMSDisclosure) != nil {
		smsDisclosure, _ = pt.exec(f, d, BlockSMSDisclosure)
	}
	forbidden := map[string]string{
		"the amount":         plainSpaces.Replace(amount),
		"the raw amount":     d.Amount,
		"the due date":       plainSpaces.Replace(due),
		"the disclosure":     disclosure,
		"the SMS disclosure": smsDisclosure,
		"the borrower":       d.BorrowerName,
		"the lender's name":  d.LenderName,
	}
	var errs []error
	for _, what := range sortedKeys(forbidden) {
		if s := forbidden[what]; s != "" && strings.Contains(text, s) {
			errs = append(errs, fmt.Errorf("%s: must not mention %s (%q): it goes to someone who is not the borrower", pt.src.origin, what, s))
		}
	}
	return errs
}

// emptyBlock is the cause of a missing block: err, or that it rendered empty.
func emptyBlock(err error) error {
	if err == nil {
		return errors.New("it renders empty")
	}
	return err
}
