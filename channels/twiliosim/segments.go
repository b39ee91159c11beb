package twiliosim

import "strings"

// gsmBasic is the GSM 03.38 basic character set; gsmExtended holds the
// characters that take an escape plus one septet.
const (
	gsmBasic    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtended {
		m[r] = 2
	}
	return m
}()

// Segments counts the SMS segments of body the way carriers split it: GSM-7
// when every character is in the GSM alphabet (160 septets, 153 per part when
// split), UCS-2 otherwise (70 characters, 67 per part, counting UTF-16 units).
func Segments(body string) int {
	if body == "" {
		return 1
	}
	septets, gsm := 0, true
	for _, r := range body {
		n, ok := gsmSeptets[r]
		if !ok {
			gsm = false
			break
		}
		septets += n
	}
	if gsm {
		return split(septets, 160, 153)
	}
	units := 0
	for _, r := range body {
		if r > 0xFFFF {
			units += 2
		} else {
			units++
		}
	}
	return split(units, 70, 67)
}

func split(n, single, part int) int {
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

// smartReplacements map characters outside GSM-7 to their GSM-7
// look-alikes, as Twilio's Smart Encoding does.
var smartReplacements = strings.NewReplacer(
	"\u00A0", " ", "\u2002", " ", "\u2003", " ", "\u2009", " ", "\u200B", "",
	"\u2018", "'", "\u2019", "'", "\u201A", "'", "\u201B", "'", "\u2032", "'", "\u00B4", "'", "\u02BC", "'",
	"\u201C", "\"", "\u201D", "\"", "\u201E", "\"", "\u201F", "\"", "\u2033", "\"", "\u00AB", "\"", "\u00BB", "\"",
	"\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2014", "-", "\u2015", "-", "\u2212", "-",
	"\u2026", "...", "\u2022", "-", "\u02C6", "^", "\u2039", "<", "\u203A", ">", "\u02DC", "~",
	"\uFF01", "!", "\uFF1F", "?", "\uFF0C", ",", "\uFF1A", ":", "\uFF1B", ";", "\uFF08", "(", "\uFF09", ")",
)

// smartEncode replaces the characters of body that have a GSM-7 look-alike.
func smartEncode(body string) string { return smartReplacements.Replace(body) }
