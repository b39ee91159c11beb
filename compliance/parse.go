package compliance

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/nudgehq/nudge"
)

// MaxPromiseDaysLimit is the largest max_promise_days a lender profile may set.
const MaxPromiseDaysLimit = 365

// ParseDuration parses "7d" or a Go duration such as "24h".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q is not a duration like 7d or 24h", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration like 7d or 24h", s)
	}
	return d, nil
}

// FormatDuration writes d as whole days ("7d") when it is a whole number of days, else as a Go duration.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// profileDoc is the YAML shape of a lender profile; see docs/compliance.md.
type profileDoc struct {
	Name                    string               `yaml:"name"`
	Base                    string               `yaml:"base"`
	Language                *string              `yaml:"language"`
	Collector               *string              `yaml:"collector"`
	Windows                 map[string]windowDoc `yaml:"windows"`
	Fallback                *fallbackDoc         `yaml:"fallback"`
	Caps                    map[string][]capDoc  `yaml:"caps"`
	ConversationBlockDays   *int                 `yaml:"conversation_block_days"`
	RequireConsent          map[string]bool      `yaml:"require_consent"`
	HoldScope               map[string][]string  `yaml:"hold_scope"`
	BlackoutDates           []string             `yaml:"blackout_dates"`
	BlackoutWeekdays        []string             `yaml:"blackout_weekdays"`
	MaxPromiseDays          *int                 `yaml:"max_promise_days"`
	LimitedContentVoicemail *bool                `yaml:"limited_content_voicemail"`
	OptInJurisdictions      []string             `yaml:"opt_in_jurisdictions"`
	Overrides               []Override           `yaml:"overrides"`
}

type windowDoc struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

type fallbackDoc struct {
	Zone  *string `yaml:"zone"`
	Start *string `yaml:"start"`
	End   *string `yaml:"end"`
}

type capDoc struct {
	Window     string `yaml:"window"`
	Max        *int   `yaml:"max"`
	Count      string `yaml:"count"`
	PerAddress bool   `yaml:"per_address"`
}

// profileParser carries the file name and YAML tree for error positions.
type profileParser struct {
	filename string
	file     *ast.File
	errs     []error
}

// line returns the line of the YAML node at path (such as "$.windows.sms"),
// falling back to its nearest parent that exists, or 0.
func (pp *profileParser) line(path string) int {
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil && pp.file != nil {
			if n, err := p.FilterFile(pp.file); err == nil && n != nil && n.GetToken() != nil {
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

// errorf records an error at the YAML path, naming file:line and the field.
func (pp *profileParser) errorf(path, field, format string, args ...any) {
	pos := pp.filename
	if l := pp.line(path); l > 0 {
		pos = fmt.Sprintf("%s:%d", pp.filename, l)
	}
	pp.errs = append(pp.errs, fmt.Errorf("%s: %s: %s", pos, field, fmt.Sprintf(format, args...)))
}

// ParseProfile parses a lender profile written in YAML (see docs/compliance.md).
// Parsing is strict: an unknown key is an error naming file:line. The profile
// starts from its base (us or cn); tightening a default is free, while loosening
// one needs an entry under overrides with the field and a non-empty reason, or
// it is an error naming the field and the default it loosens. The profile name
// defaults to the file name without its extension.
func ParseProfile(filename string, data []byte) (*Profile, error) {
	pp := &profileParser{filename: filename}
	if f, err := parser.ParseBytes(data, 0); err == nil {
		pp.file = f
	}
	var doc profileDoc
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, fmt.Errorf("%s:%d: %s", filename, ye.GetToken().Position.Line, ye.GetMessage())
		}
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	base, err := Builtin(doc.Base)
	if err != nil || base.Overlay {
		pp.errorf("$.base", "base", "must be us or cn, not %q", doc.Base)
		return nil, errors.Join(pp.errs...)
	}
	p := base.Clone()
	p.Base = base.Name
	p.Name = doc.Name
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(filename), filepath.Ext(filename))
	}
	if slices.Contains(BuiltinNames(), p.Name) || p.Name == "" {
		pp.errorf("$.name", "name", "a lender profile needs its own name, not %q", p.Name)
	}
	pp.apply(&doc, p)
	pp.checkLoosening(&doc, base, p)
	if len(pp.errs) > 0 {
		return nil, errors.Join(pp.errs...)
	}
	return p, nil
}

// apply copies the document onto p, validating each value.
func (pp *profileParser) apply(doc *profileDoc, p *Profile) {
	if doc.Language != nil {
		switch *doc.Language {
		case LangEnglish, LangSpanish, LangChinese:
			p.Language = *doc.Language
		default:
			pp.errorf("$.language", "language", "must be en, es or zh-CN, not %q", *doc.Language)
		}
	}
	if doc.Collector != nil {
		switch *doc.Collector {
		case FirstParty, ThirdParty:
			p.Collector = *doc.Collector
		default:
			pp.errorf("$.collector", "collector", "must be %s or %s, not %q", FirstParty, ThirdParty, *doc.Collector)
		}
	}
	// Limited-content voicemail follows the collector unless set explicitly.
	p.LimitedContentVoicemail = p.Base == "us" && p.Collector == ThirdParty
	if doc.LimitedContentVoicemail != nil {
		p.LimitedContentVoicemail = *doc.LimitedContentVoicemail
	}
	for _, k := range sortedKeys(doc.Windows) {
		ch, ok := pp.channel("$.windows."+k, "windows."+k, k)
		if !ok {
			continue
		}
		w, ok := pp.window("$.windows."+k, "windows."+k, doc.Windows[k].Start, doc.Windows[k].End)
		if !ok {
			continue
		}
		if err := w.validate(); err != nil {
			pp.errorf("$.windows."+k, "windows."+k, "%v", err)
			continue
		}
		p.Windows[ch] = w
	}
	if f := doc.Fallback; f != nil {
		if f.Zone != nil {
			if _, err := nudge.LoadLocation(*f.Zone); err != nil || *f.Zone == "" || *f.Zone == "Local" {
				pp.errorf("$.fallback.zone", "fallback.zone", "%q is not an IANA time zone", *f.Zone)
			} else {
				p.FallbackZone = *f.Zone
			}
		}
		start, end := p.FallbackWindow.Start.String(), p.FallbackWindow.End.String()
		if f.Start != nil {
			start = *f.Start
		}
		if f.End != nil {
			end = *f.End
		}
		if w, ok := pp.window("$.fallback", "fallback", start, end); ok {
			if err := w.validate(); err != nil {
				pp.errorf("$.fallback", "fallback", "%v", err)
			} else {
				p.FallbackWindow = w
			}
		}
	}
	for _, k := range sortedKeys(doc.Caps) {
		ch, ok := pp.channel("$.caps."+k, "caps."+k, k)
		if !ok {
			continue
		}
		var limits []nudge.CapLimit
		for i, c := range doc.Caps[k] {
			path := fmt.Sprintf("$.caps.%s[%d]", k, i)
			field := fmt.Sprintf("caps.%s[%d]", k, i)
			win, err := ParseDuration(c.Window)
			if err != nil {
				pp.errorf(path, field+".window", "is required: %v", err)
				continue
			}
			l := nudge.CapLimit{Channel: ch, Window: win, PerAddress: c.PerAddress}
			if c.Max == nil || *c.Max < 0 {
				pp.errorf(path, field+".max", "is required and must be 0 or more")
				continue
			}
			l.Max = *c.Max
			switch nudge.CapCount(c.Count) {
			case "", nudge.CountAll:
				l.Count = nudge.CountAll
			case nudge.CountCalls, nudge.CountUnanswered:
				if ch != nudge.Voice {
					pp.errorf(path, field+".count", "%q applies to voice only", c.Count)
					continue
				}
				l.Count = nudge.CapCount(c.Count)
			default:
				pp.errorf(path, field+".count", "must be all, calls or unanswered, not %q", c.Count)
				continue
			}
			l.Reason, l.Rule = capReasonRule(p, l)
			limits = append(limits, l)
		}
		p.Caps[ch] = limits
	}
	if doc.ConversationBlockDays != nil {
		if *doc.ConversationBlockDays < 0 || *doc.ConversationBlockDays > 30 {
			pp.errorf("$.conversation_block_days", "conversation_block_days", "must be between 0 and 30, not %d", *doc.ConversationBlockDays)
		} else {
			p.ConversationBlockDays = *doc.ConversationBlockDays
		}
	}
	for _, k := range sortedKeys(doc.RequireConsent) {
		if ch, ok := pp.channel("$.require_consent."+k, "require_consent."+k, k); ok {
			p.RequireConsent[ch] = doc.RequireConsent[k]
		}
	}
	for _, k := range sortedKeys(doc.HoldScope) {
		kind := nudge.HoldKind(k)
		if !kind.Valid() {
			pp.errorf("$.hold_scope."+k, "hold_scope."+k, "unknown hold kind %q", k)
			continue
		}
		chs := []nudge.ChannelKind{}
		for i, c := range doc.HoldScope[k] {
			if ch, ok := pp.channel(fmt.Sprintf("$.hold_scope.%s[%d]", k, i), "hold_scope."+k, c); ok && !slices.Contains(chs, ch) {
				chs = append(chs, ch)
			}
		}
		p.HoldScope[kind] = chs
	}
	for i, s := range doc.BlackoutDates {
		d, err := nudge.ParseDate(s)
		if err != nil {
			pp.errorf(fmt.Sprintf("$.blackout_dates[%d]", i), "blackout_dates", "%v", err)
			continue
		}
		p.BlackoutDates = append(p.BlackoutDates, d)
	}
	for i, s := range doc.BlackoutWeekdays {
		wd, ok := parseWeekday(s)
		if !ok {
			pp.errorf(fmt.Sprintf("$.blackout_weekdays[%d]", i), "blackout_weekdays", "%q is not a day of the week", s)
			continue
		}
		p.BlackoutWeekdays = append(p.BlackoutWeekdays, wd)
	}
	for i, name := range doc.OptInJurisdictions {
		j, ok := builtins()[name]
		switch {
		case !ok || !j.OptIn:
			pp.errorf(fmt.Sprintf("$.opt_in_jurisdictions[%d]", i), "opt_in_jurisdictions", "%q is not an opt-in jurisdiction profile (want us-nyc)", name)
		case slices.Contains(p.OptInJurisdictions, name):
			pp.errorf(fmt.Sprintf("$.opt_in_jurisdictions[%d]", i), "opt_in_jurisdictions", "%q is listed twice", name)
		default:
			p.OptInJurisdictions = append(p.OptInJurisdictions, name)
		}
	}
	if doc.MaxPromiseDays != nil {
		if *doc.MaxPromiseDays < 1 || *doc.MaxPromiseDays > MaxPromiseDaysLimit {
			pp.errorf("$.max_promise_days", "max_promise_days", "must be between 1 and %d, not %d", MaxPromiseDaysLimit, *doc.MaxPromiseDays)
		} else {
			p.MaxPromiseDays = *doc.MaxPromiseDays
		}
	}
}

// window parses a window's start and end at path.
func (pp *profileParser) window(path, field, start, end string) (Window, bool) {
	s, err := ParseClockTime(start)
	if err != nil {
		pp.errorf(path, field+".start", "%v", err)
		return Window{}, false
	}
	e, err := ParseClockTime(end)
	if err != nil {
		pp.errorf(path, field+".end", "%v", err)
		return Window{}, false
	}
	return Window{Start: s, End: e}, true
}

// channel parses a channel name at path.
func (pp *profileParser) channel(path, field, s string) (nudge.ChannelKind, bool) {
	ch, err := nudge.ParseChannel(s)
	if err != nil {
		pp.errorf(path, field, "%v", err)
		return "", false
	}
	return ch, true
}

// capReasonRule gives a lender cap the reason and rule of the base cap it
// tightens, or a lender-profile rule for a cap of its own.
func capReasonRule(p *Profile, l nudge.CapLimit) (nudge.Reason, string) {
	for _, b := range p.Caps[l.Channel] {
		if b.Count == l.Count && b.PerAddress == l.PerAddress {
			return b.Reason, b.Rule
		}
	}
	reason := nudge.ReasonFrequencyCap
	switch l.Count {
	case nudge.CountCalls:
		reason = nudge.ReasonCallCap
	case nudge.CountUnanswered:
		reason = nudge.ReasonUnansweredCap
	}
	return reason, "lender profile " + p.Name
}

// loosening is one default a lender profile relaxes.
type loosening struct {
	field, path, value, was string
}

// checkLoosening compares p with its base and requires an override for each loosened default.
func (pp *profileParser) checkLoosening(doc *profileDoc, base, p *Profile) {
	var ls []loosening
	for _, ch := range nudge.Channels {
		if !base.Windows[ch].Contains(p.Windows[ch]) {
			ls = append(ls, loosening{"windows." + string(ch), "$.windows." + string(ch), p.Windows[ch].String(), base.Windows[ch].String()})
		}
		if !capsCover(p.Caps[ch], base.Caps[ch]) {
			ls = append(ls, loosening{"caps." + string(ch), "$.caps." + string(ch), capsString(p.Caps[ch]), capsString(base.Caps[ch])})
		}
		if base.RequireConsent[ch] && !p.RequireConsent[ch] {
			ls = append(ls, loosening{"require_consent." + string(ch), "$.require_consent." + string(ch), "false", "true"})
		}
	}
	if p.FallbackZone != base.FallbackZone {
		ls = append(ls, loosening{"fallback.zone", "$.fallback.zone", p.FallbackZone, base.FallbackZone})
	}
	if !base.FallbackWindow.Contains(p.FallbackWindow) {
		ls = append(ls, loosening{"fallback.window", "$.fallback", p.FallbackWindow.String(), base.FallbackWindow.String()})
	}
	if p.ConversationBlockDays < base.ConversationBlockDays {
		ls = append(ls, loosening{"conversation_block_days", "$.conversation_block_days", strconv.Itoa(p.ConversationBlockDays), strconv.Itoa(base.ConversationBlockDays)})
	}
	defaultLCV := p.Base == "us" && p.Collector == ThirdParty
	if defaultLCV && !p.LimitedContentVoicemail {
		ls = append(ls, loosening{"limited_content_voicemail", "$.limited_content_voicemail", "false", "true"})
	}
	for _, k := range nudge.HoldKinds {
		for _, ch := range nudge.Channels {
			if base.HoldSuppresses(k, ch) && !p.HoldSuppresses(k, ch) {
				ls = append(ls, loosening{"hold_scope." + string(k), "$.hold_scope." + string(k), channelList(p.HoldScope[k]), channelList(nudge.Channels)})
				break
			}
		}
	}

	byField := map[string]int{}
	for i, o := range doc.Overrides {
		path := fmt.Sprintf("$.overrides[%d]", i)
		if _, dup := byField[o.Field]; dup {
			pp.errorf(path, "overrides", "field %q is overridden twice", o.Field)
			continue
		}
		byField[o.Field] = i
		if strings.TrimSpace(o.Reason) == "" {
			pp.errorf(path, "overrides", "the override of %q needs a written reason", o.Field)
		}
	}
	used := map[string]bool{}
	p.Overrides = nil
	for _, l := range ls {
		i, ok := byField[l.field]
		if !ok {
			pp.errorf(l.path, l.field, "%s loosens the %s default %s; add an overrides entry with field %q and a reason", l.value, base.Name, l.was, l.field)
			continue
		}
		used[l.field] = true
		o := doc.Overrides[i]
		if o.Value != "" && o.Value != l.value {
			pp.errorf(fmt.Sprintf("$.overrides[%d]", i), "overrides", "the override of %q says value %q but the profile sets %q", l.field, o.Value, l.value)
			continue
		}
		o.Value = l.value
		p.Overrides = append(p.Overrides, o)
	}
	for i, o := range doc.Overrides {
		if !used[o.Field] && byField[o.Field] == i {
			pp.errorf(fmt.Sprintf("$.overrides[%d]", i), "overrides", "%q loosens no default; remove the override", o.Field)
		}
	}
}

// capsCover reports whether the caps in have cover every cap in want: for each
// wanted cap some cap counts at least the same attempts over at least the same
// window with at most the same maximum.
func capsCover(have, want []nudge.CapLimit) bool {
	for _, w := range want {
		ok := slices.ContainsFunc(have, func(h nudge.CapLimit) bool {
			countsSuperset := h.Count == w.Count || h.Count == nudge.CountAll
			scopeSuperset := !h.PerAddress || w.PerAddress
			return countsSuperset && scopeSuperset && h.Window >= w.Window && h.Max <= w.Max
		})
		if !ok {
			return false
		}
	}
	return true
}

// capsString writes caps as "1/1d/all, 4/7d/all" ("/per_address" when per contact).
func capsString(caps []nudge.CapLimit) string {
	if len(caps) == 0 {
		return "none"
	}
	parts := make([]string, len(caps))
	for i, c := range caps {
		parts[i] = fmt.Sprintf("%d/%s/%s", c.Max, FormatDuration(c.Window), c.Count)
		if c.PerAddress {
			parts[i] += "/per_address"
		}
	}
	return strings.Join(parts, ", ")
}

func channelList(chs []nudge.ChannelKind) string {
	if len(chs) == 0 {
		return "none"
	}
	s := make([]string, len(chs))
	for i, c := range chs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) || strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
