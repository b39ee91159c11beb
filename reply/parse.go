package reply

import (
	"strings"
	"unicode"

	"github.com/nudgehq/nudge"
)

// parser holds one reply being parsed.
type parser struct {
	c          Context
	input      string
	today      nudge.Date
	maxDays    int
	monthFirst bool
	digits     int
	hint       string // base of Context.Language: en, es, zh, …

	toks     []token
	used     []bool // token consumed by a date, time or count
	dateAt   []int  // index in dates of the date a token belongs to, or -1
	notNeg   []bool // negation word that is part of "no problem", "不好意思", …
	paidAt   []bool // token of a statement that the payment was made
	dates    []mention
	amounts  []amountMention
	spanish  bool // the reply reads as Spanish (detected or hinted)
	detected string

	// thirdParty is set when a revocation is about someone else ("stop
	// contacting my family"): a person reads the reply.
	thirdParty bool
}

// mention is a date named in the reply.
type mention struct {
	date   nudge.Date
	valid  bool // false for an impossible date such as 2/30
	clause int
	// ambiguous marks a numeric date that reads two ways (10/12) and whose
	// reading in the borrower's order is past; alt is the other reading
	// when that one is not past.
	ambiguous bool
	alt       nudge.Date
}

// amountMention is a number read as an amount.
type amountMention struct {
	minor  int64
	valid  bool // false for a percentage, an unknown suffix or too many decimals
	clause int
}

func newParser(text string, c Context) *parser {
	loc := c.Location
	if loc == nil {
		loc = c.Now.Location()
	}
	p := &parser{c: c, input: text, today: nudge.DateOf(c.Now.In(loc)), maxDays: c.MaxPromiseDays}
	if p.maxDays <= 0 {
		p.maxDays = DefaultMaxPromiseDays
	}
	p.hint = strings.ToLower(c.Language)
	if i := strings.IndexAny(p.hint, "-_"); i >= 0 {
		p.hint = p.hint[:i]
	}
	p.monthFirst = monthFirst(c.Country, c.Language)
	p.digits = currencyDigits(c.Currency)
	return p
}

// parse applies the rules in the order the package documentation gives.
func (p *parser) parse() Result {
	kw := keywordForm(p.input)
	if kw == "" {
		p.toks = nil
		return Result{Intent: nudge.IntentUnknown}
	}
	p.toks = tokenize(p.input)
	p.detected = detectLanguage(p.input, p.toks, p.hint)
	p.spanish = p.detected == "es" || (p.detected == "" && p.hint == "es")

	if in, ok := keywords[kw]; ok && in == nudge.IntentOptOut {
		return Result{Intent: in, Keyword: kw, Channels: p.channels(scSelf)}
	}
	if r, ok := p.menu(kw); ok {
		return r
	}
	if in, ok := keywords[kw]; ok && (in != nudge.IntentOptIn || asciiKeyword(p.input)) {
		return Result{Intent: in, Keyword: kw}
	}
	if len(p.toks) == 0 {
		return Result{Intent: nudge.IntentUnknown}
	}
	p.markNegationExceptions()
	r := p.meaning()
	r.Flags = p.flags()
	if r.Intent == nudge.IntentOptOut && len(r.Channels) == len(nudge.Channels) {
		r.Flags.Cease = true
	}
	return r
}

// meaning applies rules 5 to 10 of the package documentation.
func (p *parser) meaning() Result {
	sc, ok := p.revocation()
	switch {
	case ok:
		return Result{Intent: nudge.IntentOptOut, Channels: p.channels(sc)}
	case p.thirdParty:
		return Result{Intent: nudge.IntentUnknown}
	}
	switch {
	case contains(p.toks, wrongNumberPhrases) || p.clauseIs(wrongNumberClauses):
		return Result{Intent: nudge.IntentWrongNumber}
	case contains(p.toks, talkPhrases) || p.clauseIs(talkClauses):
		return Result{Intent: nudge.IntentTalkToPerson}
	}
	p.scanDates()
	p.scanAmounts()
	paid := p.paid()
	r, found := p.promise()
	switch {
	case paid && found:
		// "I paid 100 yesterday and will pay the rest Friday": a person decides.
		return Result{Intent: nudge.IntentUnknown}
	case paid:
		return Result{Intent: nudge.IntentPaid}
	case found:
		return r
	}
	return Result{Intent: nudge.IntentUnknown}
}

// asciiKeyword reports whether every letter of s, once full-width forms are
// folded, is an ASCII letter: an opt-in keyword must be one the provider
// honours too, so "ſtart" (whose long s upper-cases to S) is not START.
func asciiKeyword(s string) bool {
	for _, r := range s {
		r = foldWidth(r)
		if unicode.IsLetter(r) && r > unicode.MaxASCII {
			return false
		}
	}
	return true
}

// language returns the detected language of the reply.
func (p *parser) language() string { return p.detected }

// keywordForm trims surrounding whitespace, punctuation, symbols and marks
// (the keycap of "1️⃣"), folds full-width forms, joins words with one space
// and upper-cases the result.
func keywordForm(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		r = foldWidth(r)
		if r == '-' || r == '_' || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) {
			// Inner punctuation is kept only between letters or digits; the
			// ends are trimmed.
			if b.Len() > 0 {
				space = true
			}
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// menuWords are spoken or spelled-out menu keys ("one", "uno", "一").
var menuWords = map[string]string{
	"ONE": "1", "TWO": "2", "THREE": "3", "FOUR": "4", "FIVE": "5", "SIX": "6", "SEVEN": "7", "EIGHT": "8", "NINE": "9", "ZERO": "0",
	"UNO": "1", "DOS": "2", "TRES": "3", "CUATRO": "4", "CINCO": "5", "SEIS": "6", "SIETE": "7", "OCHO": "8", "NUEVE": "9", "CERO": "0",
	"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9", "零": "0",
	"OPTION 1": "1", "OPTION 2": "2", "OPTION 3": "3", "OPCION 1": "1", "OPCIÓN 1": "1", "OPCION 2": "2", "OPCIÓN 2": "2",
}

// menu resolves a reply that is exactly one of the menu's keys.
func (p *parser) menu(kw string) (Result, bool) {
	if len(p.c.Menu) == 0 {
		return Result{}, false
	}
	alt, hasAlt := menuWords[kw]
	for key, opt := range p.c.Menu {
		k := keywordForm(key)
		if k == "" || (k != kw && (!hasAlt || k != alt)) {
			continue
		}
		if opt.Intent != nudge.IntentPromise {
			switch opt.Intent {
			case "", nudge.IntentOptIn:
				// A key is never consent: only START, YES and UNSTOP are.
				return Result{Intent: nudge.IntentUnknown}, true
			case nudge.IntentOptOut:
				return Result{Intent: nudge.IntentOptOut, Channels: p.channels(scSelf)}, true
			}
			return Result{Intent: opt.Intent}, true
		}
		if opt.Date.IsZero() {
			return Result{Intent: nudge.IntentUnknown}, true
		}
		amount := opt.Amount
		if amount == "" {
			amount = p.c.AmountDue
		}
		minor, ok := parseDecimal(amount, p.digits)
		if !ok && amount != "" {
			return Result{Intent: nudge.IntentUnknown}, true
		}
		norm := ""
		if ok {
			if minor <= 0 {
				return Result{Intent: nudge.IntentUnknown}, true
			}
			norm = formatMinor(minor, p.digits)
		}
		return p.promiseOn(opt.Date, norm), true
	}
	return Result{}, false
}

// promiseOn builds the result of a promise of amount on d, applying the
// past and horizon rules.
func (p *parser) promiseOn(d nudge.Date, amount string) Result {
	if d.Before(p.today) {
		return Result{Intent: nudge.IntentUnknown, Past: true}
	}
	return Result{Intent: nudge.IntentPromise, Date: d, Amount: amount, TooFar: d.DaysSince(p.today) > p.maxDays}
}

// markNegationExceptions marks the negation words that belong to phrases
// such as "no problem" or "不好意思".
func (p *parser) markNegationExceptions() {
	p.notNeg = make([]bool, len(p.toks))
	for i := 0; i < len(p.toks); {
		s, e, ok := find(p.toks, negationExceptions, i)
		if !ok {
			return
		}
		for j := s; j < e; j++ {
			p.notNeg[j] = true
		}
		i = e
	}
}

// isNeg reports whether toks[i] negates.
func (p *parser) isNeg(i int) bool { return negations[p.toks[i].text] && !p.notNeg[i] }

// negatedBefore reports whether a negation precedes toks[i] in its clause.
func (p *parser) negatedBefore(i int) bool {
	for j := i - 1; j >= 0 && p.toks[j].clause == p.toks[i].clause; j-- {
		if p.isNeg(j) {
			return true
		}
	}
	return false
}

// clauseIs reports whether some clause is one of ps surrounded only by
// fillers ("not me", "no soy yo, gracias").
func (p *parser) clauseIs(ps []pattern) bool {
	for i := 0; i < len(p.toks); i++ {
		for _, pt := range ps {
			e, ok := pt.matchAt(p.toks, i)
			if !ok {
				continue
			}
			c := p.toks[i].clause
			clean := true
			for j := 0; j < len(p.toks) && clean; j++ {
				if p.toks[j].clause == c && (j < i || j >= e) && !fillers[p.toks[j].text] {
					clean = false
				}
			}
			if clean {
				return true
			}
		}
	}
	return false
}

// paid reports a statement that the payment was already made.
// The tokens of each statement found are marked in p.paidAt, so that the pay
// verb inside 已经还款 is not read again as a promise.
func (p *parser) paid() bool {
	p.paidAt = make([]bool, len(p.toks))
	found := false
	for i := 0; i < len(p.toks); {
		s, e, ok := find(p.toks, paidPhrases, i)
		if !ok {
			break
		}
		i = s + 1
		if p.negatedBefore(s) {
			continue
		}
		if w := p.toks[s].text; w == "paid" || w == "payed" {
			if s > 0 && p.toks[s-1].clause == p.toks[s].clause && paidBlockers[p.toks[s-1].text] {
				continue
			}
		}
		for j := s; j < e; j++ {
			p.paidAt[j] = true
		}
		found = true
	}
	// Spanish preterite with its accent: "pagué".
	for i, t := range p.toks {
		if t.text == "pague" && t.accented() && !p.negatedBefore(i) {
			p.paidAt[i] = true
			found = true
		}
	}
	return found
}
