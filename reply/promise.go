package reply

import "github.com/nudgehq/nudge"

// zhBareVerbs are the one-character Chinese pay verbs, accepted only before
// a character from zhPayFollow, a number or the end of the clause.
var zhBareVerbs = map[string]bool{"还": true, "付": true, "缴": true}

// dueWords after a pay verb mean the reply quotes the reminder ("my payment
// is due Friday") rather than promising.
var dueWords = map[string]bool{"due": true, "late": true, "overdue": true, "vence": true, "vencido": true, "atrasado": true, "到期": true}

// payVerbAt reports a pay verb at toks[i] and where it ends.
func (p *parser) payVerbAt(i int) (int, bool) {
	for _, pt := range payVerbs {
		if e, ok := pt.matchAt(p.toks, i); ok {
			return e, true
		}
	}
	t := p.toks[i]
	if t.kind != tHan || !zhBareVerbs[t.text] {
		return 0, false
	}
	if i+1 == len(p.toks) || p.toks[i+1].clause != t.clause {
		return i + 1, true
	}
	n := p.toks[i+1]
	if n.kind == tNum || zhPayFollow[n.text] {
		return i + 1, true
	}
	return 0, false
}

// payNegated reports a pay verb at toks[i:end] that is negated ("can't pay",
// "还不了"), about a past or received payment ("did you get my payment"), or
// a quote of the due date ("payment due Friday").
func (p *parser) payNegated(i, end int) bool {
	if p.negatedBefore(i) {
		return true
	}
	c := p.toks[i].clause
	for j := i - 1; j >= 0 && j >= i-3 && p.toks[j].clause == c; j-- {
		if payBlockers[p.toks[j].text] {
			return true
		}
	}
	for j := end; j < len(p.toks) && j < end+2 && p.toks[j].clause == c; j++ {
		if dueWords[p.toks[j].text] || (j == end && p.isNeg(j)) {
			return true
		}
		if p.toks[j].kind == tHan && j+1 < len(p.toks) && dueWords[p.toks[j].text+p.toks[j+1].text] {
			return true
		}
	}
	return false
}

// promise looks for a promise to pay. found reports that the reply is about
// paying in the future; the result is then either a promise or an unknown
// intent (no usable date, two dates, an unclear amount, a past date).
func (p *parser) promise() (r Result, found bool) {
	var pos, neg clauseSet
	for i := 0; i < len(p.toks); i++ {
		end, ok := p.payVerbAt(i)
		if !ok || p.paidAt[i] {
			continue
		}
		if p.payNegated(i, end) {
			neg.add(p.toks[i].clause)
		} else {
			pos.add(p.toks[i].clause)
		}
		i = end - 1
	}
	if pos.empty() {
		return Result{}, false
	}
	unknown := Result{Intent: nudge.IntentUnknown}
	for i := 0; i < len(p.toks); {
		s, e, ok := find(p.toks, vagueAmounts, i)
		if !ok {
			break
		}
		if pos.has(p.toks[s].clause) {
			return unknown, true
		}
		i = e
	}

	// Dates: those said with the pay verb, else those of clauses that do not
	// refuse to pay ("I can't pay today, Friday I will pay" has one date each).
	var date mention
	n := 0
	for _, pass := range []bool{true, false} {
		for _, m := range p.dates {
			if (pass && !pos.has(m.clause)) || (!pass && neg.has(m.clause)) {
				continue
			}
			if !m.valid {
				return unknown, true
			}
			if n == 0 || m.date != date.date {
				n++
				date = m
			}
		}
		if n > 0 {
			break
		}
	}
	if n != 1 {
		return unknown, true
	}

	var minor int64
	k := 0
	for _, pass := range []bool{true, false} {
		for _, a := range p.amounts {
			if (pass && !pos.has(a.clause)) || (!pass && neg.has(a.clause)) {
				continue
			}
			if !a.valid {
				return unknown, true
			}
			if k == 0 || a.minor != minor {
				k++
				minor = a.minor
			}
		}
		if k > 0 {
			break
		}
	}
	due, dueOK := parseDecimal(p.c.AmountDue, p.digits)
	switch {
	case k > 1:
		return unknown, true
	case k == 0 && dueOK && due > 0:
		return p.promiseAt(date, formatMinor(due, p.digits)), true
	case k == 0:
		return p.promiseAt(date, ""), true
	case minor <= 0 || (dueOK && due > 0 && minor > due*MaxAmountFactor):
		return unknown, true
	}
	return p.promiseAt(date, formatMinor(minor, p.digits)), true
}

// clauseSet is a small set of clause indexes.
type clauseSet struct{ bits uint64 }

func (s *clauseSet) add(c int) {
	if c > 63 {
		c = 63
	}
	s.bits |= 1 << uint(c)
}

func (s clauseSet) has(c int) bool {
	if c > 63 {
		c = 63
	}
	return s.bits&(1<<uint(c)) != 0
}

func (s clauseSet) empty() bool { return s.bits == 0 }

// promiseAt is promiseOn for a date mentioned in the reply: a past date that
// the borrower may have written in the other order (10/12) is asked back.
func (p *parser) promiseAt(m mention, amount string) Result {
	r := p.promiseOn(m.date, amount)
	if r.Past && m.ambiguous {
		r.Ambiguous, r.Alternative = true, m.alt
	}
	return r
}
