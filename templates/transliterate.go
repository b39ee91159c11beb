package templates

import (
	"strings"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// CanTransliterate reports whether SMS in locale may be transliterated to
// GSM-7: only languages written in the Latin script, where dropping an accent
// leaves a readable word (García → Garcia). Chinese, Cyrillic, Greek and other
// scripts never are. An unparseable locale may not.
func CanTransliterate(locale string) bool {
	tag, err := language.Parse(locale)
	if err != nil {
		return false
	}
	script, _ := tag.Script()
	return script == language.MustParseScript("Latn")
}

// Transliterate returns s with every character that GSM-7 lacks replaced by
// its GSM-7 form, so that an SMS is sent at 160 characters a segment instead
// of 70: accented letters lose the accent GSM-7 does not have (García →
// Garcia, while é, ñ and ü, which GSM-7 has, stay), typographic quotes,
// dashes and spaces become their plain forms (as Twilio's Smart Encoding
// does), and a few letters without a decomposition are spelled out (ł → l,
// œ → oe). When a character has no GSM-7 form (Chinese, emoji), s is
// returned unchanged: the body goes as UCS-2 anyway, and then with its
// accents. The second result reports whether anything was replaced.
func Transliterate(s string) (string, bool) {
	if IsGSM7(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if gsmSeptets(r) > 0 {
			b.WriteRune(r)
			continue
		}
		t, ok := gsmForm(r)
		if !ok {
			return s, false
		}
		b.WriteString(t)
	}
	return b.String(), true
}

// fitBudget returns text transliterated when, as written, it needs more
// segments than budget and transliterating saves some; else text as
// written. The second result reports whether it transliterated. An SMS
// within its budget keeps its accents: the lender accepted its cost.
func fitBudget(text string, budget int) (string, bool) {
	before, _, _ := CountSegments(text)
	if before <= budget {
		return text, false
	}
	t, changed := Transliterate(text)
	if !changed {
		return text, false
	}
	if after, _, _ := CountSegments(t); after >= before {
		return text, false
	}
	return t, true
}

// gsmForm returns the GSM-7 form of a character outside GSM-7, and false
// when it has none.
func gsmForm(r rune) (string, bool) {
	if t, ok := gsmLookAlikes[r]; ok {
		return t, true
	}
	if r >= 0xFF01 && r <= 0xFF5E { // fullwidth ASCII
		if a := r - 0xFEE0; gsmBasic[a] || gsmExtended[a] {
			return string(a), true
		}
		return gsmForm(r - 0xFEE0)
	}
	if r < 0x80 { // ASCII outside GSM-7: `
		return "", false
	}
	var b strings.Builder
	for _, d := range norm.NFD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d):
			// A combining accent: dropped.
		case gsmBasic[d] || gsmExtended[d]:
			b.WriteRune(d)
		default:
			return "", false
		}
	}
	if b.Len() == 0 {
		return "", false
	}
	return b.String(), true
}

// gsmLookAlikes maps characters outside GSM-7 that do not decompose into a
// GSM-7 letter plus accents to their GSM-7 forms: Twilio's Smart Encoding
// list (quotes, dashes, spaces) and the Latin letters of their own.
var gsmLookAlikes = map[rune]string{
	// Spaces, and characters of no width.
	'\u00A0': " ", '\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ", '\u2004': " ",
	'\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ", '\u200A': " ",
	'\u202F': " ", '\u205F': " ", '\u200B': "", '\u200C': "", '\u200D': "", '\u2060': "", '\uFEFF': "",
	'\u00AD': "",
	// Quotes and apostrophes.
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", '\u00B4': "'",
	'\u02B9': "'", '\u02BB': "'", '\u02BC': "'", '\u02BD': "'", '\u02C8': "'", '\u02CA': "'",
	'\u02CB': "'", '\u0060': "'", '\u275B': "'", '\u275C': "'", '\u2039': "<", '\u203A': ">",
	'\u201C': `"`, '\u201D': `"`, '\u201E': `"`, '\u201F': `"`, '\u2033': `"`, '\u00AB': `"`,
	'\u00BB': `"`, '\u02BA': `"`, '\u02EE': `"`, '\u275D': `"`, '\u275E': `"`, '\u301D': `"`, '\u301E': `"`,
	// Dashes, bullets and other punctuation.
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-",
	'\u2212': "-", '\u2022': "-", '\u2026': "...", '\u02C6': "^", '\u02DC': "~", '\u00D7': "x",
	'\u00B7': ".", '\u00B0': "o", '\u00BA': "o", '\u00AA': "a",
	// Latin letters that do not decompose.
	'Đ': "D", 'đ': "d", 'Ð': "D", 'ð': "d", 'Ħ': "H", 'ħ': "h", 'ı': "i", 'Ł': "L", 'ł': "l",
	'Ŀ': "L", 'ŀ': "l", 'Œ': "OE", 'œ': "oe", 'Þ': "Th", 'þ': "th", 'ſ': "s", 'ĸ': "k", 'ŉ': "n",
	'Ŧ': "T", 'ŧ': "t", 'Ŋ': "N", 'ŋ': "n",
}
