package templates

import (
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
	if len(available) == 0 {
		return "", language.Und, false
	}
	tags := make([]language.Tag, 0, len(available))
	names := make([]string, 0, len(available))
	for _, a := range available {
		t, err := language.Parse(a)
		if err != nil {
			continue
		}
		tags = append(tags, t)
		names = append(names, a)
	}
	m := language.NewMatcher(tags)
	for _, l := range append(append([]string(nil), langs...), FallbackLocale) {
		want, err := language.Parse(l)
		if err != nil || want == language.Und {
			continue
		}
		_, idx, conf := m.Match(want)
		if conf == language.No {
			continue
		}
		chosen := tags[idx]
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
		return names[idx], format, true
	}
	return "", language.Und, false
}
