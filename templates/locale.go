package templates

import (
	"strings"

	"golang.org/x/text/language"
)

// FallbackLocale is the locale tried after the borrower's and the lender's.
const FallbackLocale = "en"

// Locales returns the preference list for a borrower: the borrower's language,
// then the lender's default; empty entries are left out. Render always tries
// FallbackLocale last.
func Locales(borrowerLang, lenderLang string) []string {
	var out []string
	for _, l := range []string{borrowerLang, lenderLang} {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// match picks, among the available locales (directory names such as "en",
// "es", "zh-CN"), the one that best serves the first language in langs that
// any of them can serve, then FallbackLocale. It returns the chosen locale and
// the tag to format money and dates with: the requested tag when it is a
// regional variant of the chosen locale (es-US formats "$412.50" in Spanish
// text), else the chosen locale's own tag. Unparseable tags are skipped.
// Regional and script variants match (es-MX → es; zh, zh-Hans, zh-TW → zh-CN);
// different languages do not.
func match(available []string, langs []string) (locale string, format language.Tag, ok bool) {
	return newLocaleMatcher(available).pick(langs)
}

// localeMatcher is match for one template's available locales, made once
// per template when the pack is compiled: building a language.Matcher and
// parsing the tags took a quarter of the rendering in a dispatch run's CPU
// profile (0.19 s of 0.77 s over 3,000 reminders), so its
// answers are kept too, by preference list.
type localeMatcher struct {
	names   []string
	tags    []language.Tag
	m       language.Matcher
	answers cache[string, matched]
}

// matched is one answer of a localeMatcher.
type matched struct {
	locale string
	format language.Tag
	ok     bool
}

func newLocaleMatcher(available []string) *localeMatcher {
	lm := &localeMatcher{}
	for _, a := range available {
		t, err := language.Parse(a)
		if err != nil {
			continue
		}
		lm.tags = append(lm.tags, t)
		lm.names = append(lm.names, a)
	}
	if len(lm.tags) > 0 {
		lm.m = language.NewMatcher(lm.tags)
	}
	return lm
}

// match is match(available, langs) for the matcher's locales, remembered.
func (lm *localeMatcher) match(langs []string) (locale string, format language.Tag, ok bool) {
	k := ""
	switch len(langs) {
	case 0:
	case 1:
		k = langs[0]
	default:
		k = strings.Join(langs, "\x00")
	}
	a, _ := lm.answers.get(k, func() (matched, error) {
		locale, format, ok := lm.pick(langs)
		return matched{locale, format, ok}, nil
	})
	return a.locale, a.format, a.ok
}

// pick is match without the memory.
func (lm *localeMatcher) pick(langs []string) (locale string, format language.Tag, ok bool) {
	if lm.m == nil {
		return "", language.Und, false
	}
	for _, l := range append(append([]string(nil), langs...), FallbackLocale) {
		want, err := language.Parse(l)
		if err != nil || want == language.Und {
			continue
		}
		_, idx, conf := lm.m.Match(want)
		if conf == language.No {
			continue
		}
		chosen := lm.tags[idx]
		format = chosen
		wb, _ := want.Base()
		cb, _ := chosen.Base()
		ws, _ := want.Script()
		cs, _ := chosen.Script()
		if wb == cb && ws == cs {
			format = want
			if _, c := want.Region(); c != language.Exact {
				// "es" asked for and "es" chosen: keep the locale's own tag.
				format = chosen
			}
		}
		return lm.names[idx], format, true
	}
	return "", language.Und, false
}
