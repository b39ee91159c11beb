package reply

import "strings"

// pattern is a compiled phrase: a sequence of elements, each a set of
// alternative token sequences, possibly optional.
//
// The source syntax separates elements by spaces and alternatives by "|";
// "_" joins several words into one alternative ("do_not") and a leading "?"
// makes an element optional. Han alternatives are split into characters, so
// "不要 ?再 发|打" matches 不要发, 不要再发 and 不要打. Words are written without
// accents: they match the accent-folded text.
type pattern struct {
	src   string
	elems []element
}

type element struct {
	alts     [][]string
	optional bool
}

// compile parses a pattern source; it panics on an empty pattern, which is a
// programming error in the lexicon.
func compile(src string) pattern {
	p := pattern{src: src}
	for _, f := range strings.Fields(src) {
		var e element
		if strings.HasPrefix(f, "?") {
			e.optional = true
			f = f[1:]
		}
		for _, alt := range strings.Split(f, "|") {
			var seq []string
			for _, t := range tokenize(strings.ReplaceAll(alt, "_", " ")) {
				seq = append(seq, t.text)
			}
			if len(seq) == 0 {
				panic("reply: empty alternative in pattern " + src)
			}
			e.alts = append(e.alts, seq)
		}
		p.elems = append(p.elems, e)
	}
	if len(p.elems) == 0 {
		panic("reply: empty pattern")
	}
	return p
}

// compileAll compiles each source.
func compileAll(srcs ...string) []pattern {
	ps := make([]pattern, len(srcs))
	for i, s := range srcs {
		ps[i] = compile(s)
	}
	return ps
}

// matchAt reports the end (exclusive) of a match of p starting at toks[i];
// every matched token is in the clause of toks[i].
func (p pattern) matchAt(toks []token, i int) (int, bool) {
	if i >= len(toks) {
		return 0, false
	}
	return p.matchElems(toks, i, 0, toks[i].clause)
}

func (p pattern) matchElems(toks []token, i, e, clause int) (int, bool) {
	if e == len(p.elems) {
		return i, true
	}
	el := p.elems[e]
	for _, alt := range el.alts {
		if j, ok := seqAt(toks, i, alt, clause); ok {
			if end, ok := p.matchElems(toks, j, e+1, clause); ok {
				return end, true
			}
		}
	}
	if el.optional {
		return p.matchElems(toks, i, e+1, clause)
	}
	return 0, false
}

// seqAt reports the end of seq matched at toks[i] within clause.
func seqAt(toks []token, i int, seq []string, clause int) (int, bool) {
	for _, s := range seq {
		if i >= len(toks) || toks[i].clause != clause || toks[i].text != s {
			return 0, false
		}
		i++
	}
	return i, true
}

// find returns the first match of any of ps at or after toks[from].
func find(toks []token, ps []pattern, from int) (start, end int, ok bool) {
	for i := from; i < len(toks); i++ {
		for _, p := range ps {
			if e, ok := p.matchAt(toks, i); ok {
				return i, e, true
			}
		}
	}
	return 0, 0, false
}

// contains reports whether any of ps matches somewhere in toks.
func contains(toks []token, ps []pattern) bool {
	_, _, ok := find(toks, ps, 0)
	return ok
}
