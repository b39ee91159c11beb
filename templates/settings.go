package templates

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// SettingsFile is the name of a pack's settings file, at the root of the
// pack: templates/default/pack.yaml holds the defaults, and a lender's
// directory may hold its own, which overrides them key by key.
const SettingsFile = "pack.yaml"

// SMS segment budgets.
const (
	// DefaultMaxSegments is the budget of an SMS template that declares none:
	// with the long data of LongData it must fit in this many segments.
	DefaultMaxSegments = 2
	// MaxSegmentsLimit is the largest budget a pack may declare: ten
	// segments is about Twilio's cap of 1,600 characters in GSM-7.
	MaxSegmentsLimit = 10
)

// MaxMenuOptions is the most options a numbered SMS menu may offer: keys 1
// to 9, each a single digit.
const MaxMenuOptions = 9

// SMSSettings are the SMS settings of a pack (the sms section of pack.yaml).
type SMSSettings struct {
	// MaxSegments is the segment budget of every SMS template that does not
	// declare its own in Budgets.
	MaxSegments int
	// Transliterate lists the locales whose SMS bodies are transliterated to
	// GSM-7 (see Transliterate); each is a Latin-script locale.
	Transliterate []string
	// Budgets holds the segment budgets SMS templates declare, by name.
	Budgets map[string]int
	// Menus holds the numbered menus SMS templates declare, by name: the
	// intents offered, in key order (the first is key 1). See Data.Menu.
	Menus map[string][]nudge.Intent
	// menuFrom names the pack.yaml that declared each menu.
	menuFrom map[string]string
}

// settingsDoc is pack.yaml as written. Pointers tell a key left out (keep
// the default) from one set to its zero value.
type settingsDoc struct {
	SMS *smsDoc `yaml:"sms"`
}

type smsDoc struct {
	MaxSegments   *int                      `yaml:"max_segments"`
	Transliterate *[]string                 `yaml:"transliterate"`
	Templates     map[string]smsTemplateDoc `yaml:"templates"`
}

type smsTemplateDoc struct {
	MaxSegments *int      `yaml:"max_segments"`
	Menu        *[]string `yaml:"menu"`
}

// settingsParser parses one pack.yaml, naming file and line in errors.
type settingsParser struct {
	origin string
	file   *ast.File
	errs   []error
	// declared lists the templates the file gives a budget.
	declared []string
}

// line returns the line of the node at path (such as "$.sms.max_segments"),
// or of its nearest parent that exists, or 0.
func (sp *settingsParser) line(path string) int {
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil && sp.file != nil {
			if n, err := p.FilterFile(sp.file); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// errAt returns an error at the YAML path, naming file:line and the field.
func (sp *settingsParser) errAt(path, field, format string, args ...any) error {
	pos := sp.origin
	if l := sp.line(path); l > 0 {
		pos = fmt.Sprintf("%s:%d", sp.origin, l)
	}
	return fmt.Errorf("%s: %s: %s", pos, field, fmt.Sprintf(format, args...))
}

// errorf records an error at the YAML path.
func (sp *settingsParser) errorf(path, field, format string, args ...any) {
	sp.errs = append(sp.errs, sp.errAt(path, field, format, args...))
}

// parseSettings reads a pack.yaml onto base, which it does not change, and
// returns the result with a parser that can place the file's keys. Parsing
// is strict: an unknown key is an error.
func parseSettings(src source, base SMSSettings) (SMSSettings, *settingsParser, error) {
	sp := &settingsParser{origin: src.origin}
	if f, err := parser.ParseBytes([]byte(src.body), 0); err == nil {
		sp.file = f
	}
	var doc settingsDoc
	if err := yaml.UnmarshalWithOptions([]byte(src.body), &doc, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return base, sp, fmt.Errorf("%s:%d: %s", src.origin, ye.GetToken().Position.Line, ye.GetMessage())
		}
		return base, sp, fmt.Errorf("%s: %w", src.origin, err)
	}
	out := base
	out.Transliterate = slices.Clone(base.Transliterate)
	out.Budgets = maps.Clone(base.Budgets)
	if out.Budgets == nil {
		out.Budgets = map[string]int{}
	}
	out.Menus = maps.Clone(base.Menus)
	if out.Menus == nil {
		out.Menus = map[string][]nudge.Intent{}
	}
	out.menuFrom = maps.Clone(base.menuFrom)
	if out.menuFrom == nil {
		out.menuFrom = map[string]string{}
	}
	if doc.SMS == nil {
		return out, sp, nil
	}
	if n := doc.SMS.MaxSegments; n != nil {
		if sp.checkBudget("$.sms.max_segments", "sms.max_segments", *n) {
			out.MaxSegments = *n
		}
	}
	if doc.SMS.Transliterate != nil {
		out.Transliterate = nil
		for i, loc := range *doc.SMS.Transliterate {
			path, field := fmt.Sprintf("$.sms.transliterate[%d]", i), fmt.Sprintf("sms.transliterate[%d]", i)
			switch _, err := language.Parse(loc); {
			case err != nil:
				sp.errorf(path, field, "%q is not a BCP 47 locale like es", loc)
			case !CanTransliterate(loc):
				sp.errorf(path, field, "%s is not written in the Latin script: its SMS cannot be transliterated to GSM-7", loc)
			case slices.Contains(out.Transliterate, loc):
				sp.errorf(path, field, "%s is listed twice", loc)
			default:
				out.Transliterate = append(out.Transliterate, loc)
			}
		}
	}
	for _, name := range sortedNames(doc.SMS.Templates) {
		sp.declared = append(sp.declared, name)
		path, field := "$.sms.templates."+name, "sms.templates."+name
		td := doc.SMS.Templates[name]
		if td.MaxSegments == nil && td.Menu == nil {
			sp.errorf(path, field, "max_segments or menu is required")
			continue
		}
		if n := td.MaxSegments; n != nil && sp.checkBudget(path+".max_segments", field+".max_segments", *n) {
			out.Budgets[name] = *n
		}
		if td.Menu != nil {
			if menu, ok := sp.checkMenu(path+".menu", field+".menu", *td.Menu); ok {
				out.Menus[name] = menu
				out.menuFrom[name] = src.origin
			}
		}
	}
	return out, sp, errors.Join(sp.errs...)
}

// checkBudget records an error unless n is a budget a pack may declare.
func (sp *settingsParser) checkBudget(path, field string, n int) bool {
	if n < 1 || n > MaxSegmentsLimit {
		sp.errorf(path, field, "%d segments is not a budget (want 1 to %d)", n, MaxSegmentsLimit)
		return false
	}
	return true
}

// checkMenu records an error unless intents is a menu a pack may declare:
// intents of nudge.MenuIntents, each at most once, at most MaxMenuOptions.
// An empty list declares no menu (a lender's pack.yaml turns a default
// menu off with menu: []).
func (sp *settingsParser) checkMenu(path, field string, intents []string) ([]nudge.Intent, bool) {
	if len(intents) > MaxMenuOptions {
		sp.errorf(path, field, "%d options, at most %d", len(intents), MaxMenuOptions)
		return nil, false
	}
	out := make([]nudge.Intent, 0, len(intents))
	ok := true
	for i, s := range intents {
		in := nudge.Intent(s)
		switch {
		case !nudge.IsMenuIntent(in):
			sp.errorf(fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s[%d]", field, i), "%q cannot be offered (want one of %s)", s, menuIntentList())
			ok = false
		case slices.Contains(out, in):
			sp.errorf(fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s[%d]", field, i), "%s is offered twice", s)
			ok = false
		default:
			out = append(out, in)
		}
	}
	return out, ok
}

func menuIntentList() string {
	names := make([]string, len(nudge.MenuIntents))
	for i, in := range nudge.MenuIntents {
		names[i] = string(in)
	}
	return strings.Join(names, ", ")
}

// checkNames returns an error for every template the file gives a budget
// that p has no SMS template of.
func (sp *settingsParser) checkNames(p *Pack) error {
	var sms []string
	for _, name := range p.Names() {
		if p.Has(name, nudge.SMS) {
			sms = append(sms, name)
		}
	}
	var errs []error
	for _, name := range sp.declared {
		if !slices.Contains(sms, name) {
			errs = append(errs, sp.errAt("$.sms.templates."+name, "sms.templates."+name,
				"no SMS template named %q in the pack (have %s)", name, strings.Join(sms, ", ")))
		}
	}
	return errors.Join(errs...)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Budget returns the segment budget of the SMS template name: the one the
// pack's settings declare for it, else SMSSettings.MaxSegments.
func (p *Pack) Budget(name string) int {
	if n, ok := p.sms.Budgets[name]; ok {
		return n
	}
	if p.sms.MaxSegments > 0 {
		return p.sms.MaxSegments
	}
	return DefaultMaxSegments
}

// Menu returns the intents the SMS template name offers as a numbered
// menu, in key order; nil when it offers none.
func (p *Pack) Menu(name string) []nudge.Intent {
	return slices.Clone(p.sms.Menus[name])
}

// Transliterates reports whether the pack transliterates SMS written in the
// pack locale (a template directory such as "es") to GSM-7.
func (p *Pack) Transliterates(locale string) bool {
	return slices.Contains(p.sms.Transliterate, locale)
}

// SMS returns the pack's SMS settings.
func (p *Pack) SMS() SMSSettings {
	s := p.sms
	s.Transliterate = slices.Clone(s.Transliterate)
	s.Budgets = maps.Clone(p.sms.Budgets)
	s.menuFrom = nil
	s.Menus = maps.Clone(p.sms.Menus)
	for name, m := range s.Menus {
		s.Menus[name] = slices.Clone(m)
	}
	return s
}
