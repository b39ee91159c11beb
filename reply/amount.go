package reply

import (
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// maxIntegerDigits bounds the integer part of an amount, so that amounts in
// minor units, even multiplied by MaxAmountFactor, fit in an int64.
const maxIntegerDigits = 13

// currencyDigits returns the fraction digits of an ISO 4217 currency, 2 when
// the code is empty or unknown.
func currencyDigits(code string) int {
	if d, ok := currency.GetDigits(strings.ToUpper(strings.TrimSpace(code))); ok {
		return int(d)
	}
	return 2
}

// parseDecimal reads a number written by a person and returns it in minor
// units of a currency with the given fraction digits. Separators are read the
// same way in every language: with both "." and "," the last one is the
// decimal mark ("1,500.50", "1.500,50"); a mark repeated is a thousands
// separator ("1,000,000"); a single mark followed by exactly three digits is a
// thousands separator ("1,500", "1.500"), otherwise a decimal mark ("200,50",
// "150.5"). More fraction digits than the currency has (other than trailing
// zeros) make the number unreadable.
func parseDecimal(s string, digits int) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := -1
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = max(lastDot, lastComma)
	case lastDot >= 0 || lastComma >= 0:
		sep := byte('.')
		if lastComma >= 0 {
			sep = ','
		}
		at := max(lastDot, lastComma)
		if strings.Count(s, string(sep)) == 1 && len(s)-at-1 != 3 {
			dec = at
		}
	}
	intPart, frac := s, ""
	if dec >= 0 {
		intPart, frac = s[:dec], s[dec+1:]
	}
	var ib strings.Builder
	for i := 0; i < len(intPart); i++ {
		switch c := intPart[i]; {
		case c >= '0' && c <= '9':
			ib.WriteByte(c)
		case c == '.' || c == ',':
		default:
			return 0, false
		}
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return 0, false
		}
	}
	whole := strings.TrimLeft(ib.String(), "0")
	if len(whole) > maxIntegerDigits || (ib.Len() == 0 && frac == "") {
		return 0, false
	}
	trimmed := strings.TrimRight(frac, "0")
	if len(trimmed) > digits {
		return 0, false
	}
	frac = trimmed + strings.Repeat("0", digits-len(trimmed))
	v, err := strconv.ParseInt("0"+whole+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// formatMinor formats an amount in minor units with the currency's fraction
// digits and "." as the decimal mark.
func formatMinor(v int64, digits int) string {
	s := strconv.FormatInt(v, 10)
	if digits == 0 {
		return s
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return s[:len(s)-digits] + "." + s[len(s)-digits:]
}

// zhDigits and zhUnits are the Chinese numerals understood in dates and
// amounts.
var (
	zhDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	zhUnits  = map[rune]int{'十': 10, '百': 100, '千': 1000, '万': 10000}
)

// hanRune returns the rune of a Han token, or 0.
func hanRune(t token) rune {
	if t.kind != tHan {
		return 0
	}
	for _, r := range t.text {
		return r
	}
	return 0
}

// zhNumber reads a Chinese numeral at toks[i] ("五", "十二", "三百五十",
// colloquial "一千五" = 1500) and returns its value, its end and whether it
// has a unit character (十, 百, 千, 万).
func zhNumber(toks []token, i int) (val, end int, unit, ok bool) {
	total, section, digit, lastUnit := 0, 0, -1, 0
	zero := false
	j := i
	for ; j < len(toks) && j-i < 12; j++ {
		r := hanRune(toks[j])
		if d, isDigit := zhDigits[r]; isDigit {
			if d == 0 {
				zero = true
			}
			if digit >= 0 {
				digit = digit*10 + d
			} else {
				digit = d
			}
			continue
		}
		u, isUnit := zhUnits[r]
		if !isUnit {
			break
		}
		unit = true
		if digit < 0 {
			digit = 1
		}
		if u == 10000 {
			total += (section + digit) * u
			section = 0
		} else {
			section += digit * u
		}
		digit, lastUnit, zero = -1, u, false
	}
	if j == i {
		return 0, i, false, false
	}
	if digit >= 0 {
		if lastUnit >= 100 && !zero && digit < 10 {
			section += digit * lastUnit / 10
		} else {
			section += digit
		}
	}
	return total + section, j, unit, true
}

// intAt reads a whole number at toks[i]: plain ASCII digits or a Chinese
// numeral.
func intAt(toks []token, i int) (val, end int, ok bool) {
	if i >= len(toks) {
		return 0, i, false
	}
	t := toks[i]
	if t.kind == tNum {
		if len(t.text) > 6 || strings.ContainsAny(t.text, ".,/:-") {
			return 0, i, false
		}
		v, err := strconv.Atoi(t.text)
		return v, i + 1, err == nil
	}
	v, e, _, ok := zhNumber(toks, i)
	return v, e, ok
}

// ordinalSuffixes follow a day number ("5th", "1st").
var ordinalSuffixes = map[string]bool{"st": true, "nd": true, "rd": true, "th": true, "ro": true, "to": true, "ero": true, "vo": true}

// scanAmounts reads the numbers not taken by a date, a time or a count.
func (p *parser) scanAmounts() {
	for i := 0; i < len(p.toks); i++ {
		if p.used[i] {
			continue
		}
		t := p.toks[i]
		switch t.kind {
		case tNum:
			p.numberAmount(i)
		case tHan:
			if _, isDigit := zhDigits[hanRune(t)]; !isDigit {
				if _, isUnit := zhUnits[hanRune(t)]; !isUnit {
					continue
				}
			}
			v, end, unit, _ := zhNumber(p.toks, i)
			if p.used[end-1] {
				i = end - 1
				continue
			}
			after := end < len(p.toks) && currencyWords[p.toks[end].text]
			before := i > 0 && (zhBareVerbs[p.toks[i-1].text] || p.toks[i-1].text == "¥" || p.toks[i-1].text == "付")
			if after || (before && (unit || end-i > 1)) {
				p.amounts = append(p.amounts, amountMention{minor: int64(v) * pow10(p.digits), valid: true, clause: t.clause})
			}
			i = end - 1
		}
	}
}

// numberAmount reads toks[i], an ASCII number, as an amount when it is one.
func (p *parser) numberAmount(i int) {
	t := p.toks[i]
	if strings.ContainsAny(t.text, "/:-") {
		return
	}
	var next *token
	if i+1 < len(p.toks) && p.toks[i+1].clause == t.clause {
		next = &p.toks[i+1]
	}
	var prev *token
	if i > 0 && p.toks[i-1].clause == t.clause {
		prev = &p.toks[i-1]
	}
	marked := (prev != nil && currencyWords[prev.text]) || (next != nil && currencyWords[next.text])
	bad := amountMention{clause: t.clause}
	if next != nil {
		switch {
		case next.text == "%":
			p.amounts = append(p.amounts, bad)
			return
		case countUnits[next.text] || (ordinalSuffixes[next.text] && next.glued) || timeSuffixes[next.text]:
			return
		case next.kind == tWord && next.glued && !currencyWords[next.text] && next.text != "k":
			p.amounts = append(p.amounts, bad)
			return
		}
	}
	if !marked {
		for j := i - 1; j >= 0 && j >= i-2 && p.toks[j].clause == t.clause; j-- {
			if accountWords[p.toks[j].text] {
				return
			}
		}
		if len(t.text) >= 7 && !strings.ContainsAny(t.text, ".,") {
			return
		}
	}
	v, ok := parseDecimal(t.text, p.digits)
	if ok && next != nil && next.text == "k" {
		if v > (1<<62)/1000 {
			ok = false
		}
		v *= 1000
	}
	p.amounts = append(p.amounts, amountMention{minor: v, valid: ok, clause: t.clause})
}

// pow10 returns 10^n.
func pow10(n int) int64 {
	v := int64(1)
	for ; n > 0; n-- {
		v *= 10
	}
	return v
}
