package compliance

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// RuleLimitedContent is the rule a limited-content voicemail follows: the
// consumer's name, a natural person to reply to, a telephone number and a
// request to reply, without naming the business in a way that says it
// collects debts (12 CFR 1006.2(j)).
const RuleLimitedContent = "12 CFR 1006.2(j)"

// debtWords are words that, in a business name, say the business collects
// debts, in the languages of the default template pack. Latin words match a
// whole word of the name (after folding case and accents); Chinese ones
// anywhere in it.
var (
	debtWords = map[string]bool{
		// English.
		"debt": true, "debts": true, "debtor": true, "debtors": true,
		"collect": true, "collects": true, "collecting": true, "collection": true, "collections": true,
		"collector": true, "collectors": true, "recovery": true, "recoveries": true,
		"repossession": true, "repossessions": true, "arrears": true, "delinquency": true, "delinquent": true,
		// Spanish (accents folded).
		"deuda": true, "deudas": true, "deudor": true, "deudores": true, "cobranza": true, "cobranzas": true,
		"cobro": true, "cobros": true, "cobrador": true, "cobradora": true, "cobradores": true,
		"recaudacion": true, "recaudadora": true, "recuperacion": true, "morosidad": true, "morosos": true,
	}
	debtSubstrings = []string{"催收", "讨债", "追债", "收债", "债务", "清收", "欠款", "逾期"}
)

// DebtWording returns the first word of name that says the business collects
// debts ("Collections" in "Acme Collections", "催收" in "华夏催收服务"), or ""
// when there is none. A limited-content voicemail must not name its business
// with such a word (RuleLimitedContent).
func DebtWording(name string) string {
	for _, s := range debtSubstrings {
		if strings.Contains(name, s) {
			return s
		}
	}
	fold := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) }) {
		folded, _, err := transform.String(fold, strings.ToLower(w))
		if err != nil {
			folded = strings.ToLower(w)
		}
		if debtWords[folded] {
			return w
		}
	}
	return ""
}
