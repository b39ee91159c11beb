package templates

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

//go:embed default
var defaultFS embed.FS

// defaultOrigin is how files of the embedded pack are named in errors.
const defaultOrigin = "templates/default"

// Part names. An SMS template has a text part; an email template a subject, a
// text and an HTML part; a voice template every part in VoiceParts.
const (
	PartText    = "text"
	PartSubject = "subject"
	PartHTML    = "html"

	PartGreeting         = "greeting"
	PartMessage          = "message"
	PartMenu             = "menu"
	PartVoicemail        = "voicemail"
	PartLimitedVoicemail = "limited_voicemail"
	PartGoodbye          = "goodbye"
	PartWrongParty       = "wrong_party"
	PartConfirmPromise   = "confirm_promise"
	PartConfirmPaid      = "confirm_paid"
	PartConfirmOptOut    = "confirm_optout"
	PartAskDate          = "ask_date"
	PartNoInput          = "no_input"
)

// VoiceParts lists the parts every voice template has, in call order.
var VoiceParts = []string{
	PartGreeting, PartMessage, PartMenu, PartVoicemail, PartLimitedVoicemail, PartGoodbye,
	PartWrongParty, PartConfirmPromise, PartConfirmPaid, PartConfirmOptOut, PartAskDate, PartNoInput,
}

// Names of the shared blocks every locale defines (in <locale>/*.tmpl files).
const (
	// BlockOptOut renders the locale's SMS opt-out instruction ("Reply STOP to opt out").
	BlockOptOut = "optout"
	// BlockDisclosure renders the Reg F debt-collector disclosure for the data
	// (the first-communication variant when FirstContact is set).
	BlockDisclosure = "disclosure"
	// BlockSMSDisclosure, optional, renders the same disclosure in the fewer
	// words an SMS can afford; an SMS carries either block.
	BlockSMSDisclosure = "sms_disclosure"
	// BlockMenu renders the numbered menu of Data.Menu ("Reply 1 to pay
	// $300.00 by Fri 12/04, 2 if you already paid."), and nothing when it is
	// empty. An SMS template that declares a menu (sms.templates.<name>.menu
	// in pack.yaml) writes it out with {{template "menu" .}}; the menu is
	// offered only when the text shows this block's output.
	BlockMenu = "menu"
)

// OptOutConfirmSMS names the template sent after an opt-out; it confirms the
// opt-out instead of offering one, so Validate does not require the opt-out text.
const OptOutConfirmSMS = "optout_confirm_sms"

// WrongNumberSMS names the template sent to someone who says the number is
// not the borrower's. It may reach a stranger, so Validate requires that it
// names neither the borrower, the lender, an amount, a date nor a debt, and
// does not require the opt-out text or the disclosure.
const WrongNumberSMS = "wrong_number_sms"

// Sentinel errors returned (wrapped) by Render.
var (
	// ErrNoTemplate is returned when the pack has no template of that name and channel.
	ErrNoTemplate = errors.New("no such template")
	// ErrSMSTooLong is returned when a rendered SMS exceeds MaxSMSChars.
	ErrSMSTooLong = errors.New("SMS body too long")
)

// channelParts lists the parts each channel's templates must have.
var channelParts = map[nudge.ChannelKind][]string{
	nudge.SMS:   {PartText},
	nudge.Email: {PartSubject, PartText, PartHTML},
	nudge.Voice: VoiceParts,
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// source is one template file, with the name errors use for it.
type source struct {
	rel    string // path inside the pack: en/sms/late_sms.text.tmpl
	origin string // path shown in errors
	body   string
}

type key struct {
	name string
	ch   nudge.ChannelKind
}

// part is one compiled part of a localized template.
type part struct {
	src  source
	text *texttemplate.Template
	html *htmltemplate.Template // set for PartHTML only
	// bound caches clones of text and html with their functions bound to
	// a formatter and a currency (see boundTo), so that a render does not
	// clone the template.
	bound cache[boundKey, boundTemplate]
}

// localized is one template in one locale.
type localized struct {
	locale string
	dir    string // origin of the directory holding the parts
	parts  map[string]*part
	// version is the hash of the parts' and shared blocks' sources
	// (Rendered.Version).
	version string
}

// Pack is a set of templates in several locales: the embedded defaults,
// possibly overlaid with a lender's directory. A Pack is immutable and safe
// for concurrent use.
type Pack struct {
	templates map[key]map[string]*localized
	// matchers holds the locale matcher of each template in templates.
	matchers map[key]*localeMatcher
	// commons holds the shared block files of each locale.
	commons map[string][]source
	// sms holds the SMS settings of pack.yaml.
	sms SMSSettings
}

var (
	defaultOnce sync.Once
	defaultPack *Pack
)

// Default returns the embedded default pack (en, es, zh-CN). It panics if the
// embedded files are invalid, which the package tests rule out.
func Default() *Pack {
	defaultOnce.Do(func() {
		p, err := loadSources(nil, "")
		if err != nil {
			panic(fmt.Sprintf("templates: embedded default pack is invalid: %v", err))
		}
		defaultPack = p
	})
	return defaultPack
}

// Load returns the default pack overlaid with the files in dir, which uses
// the same layout: <locale>/<channel>/<name>.<part>.tmpl for template parts
// and <locale>/<file>.tmpl for shared blocks, and an optional pack.yaml
// (SettingsFile) at its root. A file replaces the default file of the same
// path, and pack.yaml overrides the default settings key by key; new names
// and new locales are added. Dotfiles and README files are ignored; any other
// file that does not fit the layout is an error. The result is validated:
// Load refuses a directory whose templates do not parse or render, lack the
// opt-out, unsubscribe or disclosure text, or need more SMS segments than
// their budget with LongData, with errors naming the files.
func Load(dir string) (*Pack, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("template directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("template directory %s: not a directory", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is Load for a file system; origin prefixes file names in errors.
func LoadFS(fsys fs.FS, origin string) (*Pack, error) {
	return loadSources(fsys, origin)
}

func loadSources(override fs.FS, origin string) (*Pack, error) {
	sub, err := fs.Sub(defaultFS, "default")
	if err != nil {
		return nil, fmt.Errorf("embedded templates: %w", err)
	}
	sources := map[string]source{}
	if err := readSources(sub, defaultOrigin, sources); err != nil {
		return nil, err
	}
	settings, _, err := parseSettings(sources[SettingsFile], SMSSettings{MaxSegments: DefaultMaxSegments})
	if err != nil {
		return nil, err
	}
	delete(sources, SettingsFile)
	var lenderSettings *settingsParser
	if override != nil {
		if err := readSources(override, origin, sources); err != nil {
			return nil, err
		}
		if src, ok := sources[SettingsFile]; ok {
			delete(sources, SettingsFile)
			if settings, lenderSettings, err = parseSettings(src, settings); err != nil {
				return nil, err
			}
		}
	}
	p, err := compile(sources)
	p.sms = settings
	if lenderSettings != nil {
		err = errors.Join(err, lenderSettings.checkNames(p))
	}
	// Validate what did compile too, so one run names every bad file.
	if err := errors.Join(err, p.Validate()); err != nil {
		return nil, err
	}
	return p, nil
}

// readSources adds every template file of fsys to sources, replacing files
// of the same path.
func readSources(fsys fs.FS, origin string, sources map[string]source) error {
	var errs []error
	err := fs.WalkDir(fsys, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(origin, rel), err)
		}
		base := path.Base(rel)
		if rel != "." && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasPrefix(strings.ToUpper(base), "README") {
			return nil
		}
		name := filepath.Join(origin, filepath.FromSlash(rel))
		if !strings.HasSuffix(base, ".tmpl") && rel != SettingsFile {
			errs = append(errs, fmt.Errorf("%s: not a template (want <locale>/<channel>/<name>.<part>.tmpl, <locale>/<file>.tmpl or %s)", name, SettingsFile))
			return nil
		}
		b, err := fs.ReadFile(fsys, rel)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		sources[rel] = source{rel: rel, origin: name, body: string(b)}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// compile parses every source into a Pack. On error it also returns the
// templates that compiled, leaving out every template (in a locale) with a
// part that did not.
func compile(sources map[string]source) (*Pack, error) {
	p := &Pack{templates: map[key]map[string]*localized{}, commons: map[string][]source{}}
	var errs []error
	type partSrc struct {
		k      key
		locale string
		part   string
		src    source
	}
	var parts []partSrc
	rels := make([]string, 0, len(sources))
	for rel := range sources {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		src := sources[rel]
		segs := strings.Split(rel, "/")
		if _, err := language.Parse(segs[0]); err != nil {
			errs = append(errs, fmt.Errorf("%s: directory %q is not a BCP 47 locale: %w", src.origin, segs[0], err))
			continue
		}
		switch len(segs) {
		case 2:
			p.commons[segs[0]] = append(p.commons[segs[0]], src)
		case 3:
			ch, err := nudge.ParseChannel(segs[1])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: directory %q: %w", src.origin, segs[1], err))
				continue
			}
			fields := strings.Split(strings.TrimSuffix(segs[2], ".tmpl"), ".")
			if len(fields) != 2 || !nameRE.MatchString(fields[0]) {
				errs = append(errs, fmt.Errorf("%s: file name must be <name>.<part>.tmpl with a name of lower-case letters, digits and _", src.origin))
				continue
			}
			if !slices.Contains(channelParts[ch], fields[1]) {
				errs = append(errs, fmt.Errorf("%s: unknown %s part %q (want one of %s)", src.origin, ch, fields[1], strings.Join(channelParts[ch], ", ")))
				continue
			}
			parts = append(parts, partSrc{k: key{fields[0], ch}, locale: segs[0], part: fields[1], src: src})
		default:
			errs = append(errs, fmt.Errorf("%s: unexpected location (want <locale>/<channel>/<name>.<part>.tmpl or <locale>/<file>.tmpl)", src.origin))
		}
	}
	// Parse shared blocks on their own first, so that an error in one is
	// reported once, naming its file.
	badCommon := map[string]bool{}
	for loc, commons := range p.commons {
		t := texttemplate.New("").Funcs(stubFuncs).Option("missingkey=error")
		for _, c := range commons {
			if _, err := t.New(c.origin).Parse(c.body); err != nil {
				errs = append(errs, fileError(c.origin, err))
				badCommon[loc] = true
			}
		}
	}
	type failure struct {
		k      key
		locale string
	}
	failed := map[failure]bool{}
	for _, ps := range parts {
		if badCommon[ps.locale] {
			continue
		}
		compiled, err := p.parsePart(ps.locale, ps.part, ps.src)
		if err != nil {
			errs = append(errs, err)
			failed[failure{ps.k, ps.locale}] = true
			continue
		}
		byLocale := p.templates[ps.k]
		if byLocale == nil {
			byLocale = map[string]*localized{}
			p.templates[ps.k] = byLocale
		}
		l := byLocale[ps.locale]
		if l == nil {
			l = &localized{locale: ps.locale, dir: filepath.Dir(ps.src.origin), parts: map[string]*part{}}
			byLocale[ps.locale] = l
		}
		l.parts[ps.part] = compiled
	}
	for f := range failed {
		delete(p.templates[f.k], f.locale)
		if len(p.templates[f.k]) == 0 {
			delete(p.templates, f.k)
		}
	}
	p.matchers = make(map[key]*localeMatcher, len(p.templates))
	for k, byLocale := range p.templates {
		for _, l := range byLocale {
			l.version = sourceVersion(l, p.commons[l.locale])
		}
		p.matchers[k] = newLocaleMatcher(p.Locales(k.name, k.ch))
	}
	return p, errors.Join(errs...)
}

// sourceVersion hashes what a localized template is made of: its parts and
// the shared blocks of its locale, each by name and text, in name order.
func sourceVersion(l *localized, commons []source) string {
	h := sha256.New()
	names := make([]string, 0, len(l.parts))
	for name := range l.parts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(h, "part %s %d\n%s\n", name, len(l.parts[name].src.body), l.parts[name].src.body)
	}
	cs := slices.Clone(commons)
	sort.Slice(cs, func(i, j int) bool { return cs[i].rel < cs[j].rel })
	for _, c := range cs {
		fmt.Fprintf(h, "block %s %d\n%s\n", c.rel, len(c.body), c.body)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// parsePart parses one part with the shared blocks of its locale.
func (p *Pack) parsePart(locale, name string, src source) (*part, error) {
	pt := &part{src: src}
	t, err := texttemplate.New(src.origin).Funcs(stubFuncs).Option("missingkey=error").Parse(src.body)
	if err != nil {
		return nil, fileError(src.origin, err)
	}
	for _, c := range p.commons[locale] {
		if _, err := t.New(c.origin).Parse(c.body); err != nil {
			return nil, fileError(c.origin, err)
		}
	}
	pt.text = t
	if name == PartHTML {
		h, err := htmltemplate.New(src.origin).Funcs(stubFuncs).Option("missingkey=error").Parse(src.body)
		if err != nil {
			return nil, fileError(src.origin, err)
		}
		for _, c := range p.commons[locale] {
			if _, err := h.New(c.origin).Parse(c.body); err != nil {
				return nil, fileError(c.origin, err)
			}
		}
		pt.html = h
	}
	return pt, nil
}

// Has reports whether the pack has a template name on channel ch in any locale.
func (p *Pack) Has(name string, ch nudge.ChannelKind) bool {
	_, ok := p.templates[key{name, ch}]
	return ok
}

// Names returns the names of the pack's templates, sorted, each once.
func (p *Pack) Names() []string {
	var out []string
	for k := range p.templates {
		if !slices.Contains(out, k.name) {
			out = append(out, k.name)
		}
	}
	sort.Strings(out)
	return out
}

// Channels returns the channels that have a template called name, in the
// order of nudge.Channels.
func (p *Pack) Channels(name string) []nudge.ChannelKind {
	var out []nudge.ChannelKind
	for _, ch := range nudge.Channels {
		if p.Has(name, ch) {
			out = append(out, ch)
		}
	}
	return out
}

// Locales returns the locales the template name on channel ch exists in,
// sorted; nil when there is no such template.
func (p *Pack) Locales(name string, ch nudge.ChannelKind) []string {
	var out []string
	for loc := range p.templates[key{name, ch}] {
		out = append(out, loc)
	}
	sort.Strings(out)
	return out
}

// fileError names the file origin in err, unless the template package
// already did ("template: <file>:<line>: …").
func fileError(origin string, err error) error {
	if strings.Contains(err.Error(), origin) {
		return err
	}
	return fmt.Errorf("%s: %w", origin, err)
}
