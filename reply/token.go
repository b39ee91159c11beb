package reply

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tWord tokKind = iota // a run of Latin (or other non-Han) letters
	tNum                 // ASCII digits, possibly with . , / : - between digits
	tHan                 // one Han character
	tSym                 // a currency sign, '#' or '%'
)

// token is one unit of a reply. Words are lower-cased; text has accents
// removed and raw keeps them, so "pagué" has text "pague" and raw "pagué".
type token struct {
	text   string
	raw    string
	kind   tokKind
	clause int  // index of the clause (split at . , ; ! ? and "but")
	glued  bool // no space or punctuation between this token and the previous
}

// accented reports whether the word carried an accent or tilde.
func (t token) accented() bool { return t.text != t.raw }

// foldWidth maps full-width ASCII forms and the ideographic space to ASCII.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	case r == 0xFFE5: // full-width yen sign
		return '¥'
	case r == 0x2019 || r == 0x2018 || r == 0x02BC || r == 0x00B4:
		return '\''
	}
	return r
}

// foldAccent maps a lower-case Latin letter with a diacritic to its base
// letter; other runes are returned unchanged.
func foldAccent(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	}
	return r
}

// isClauseBreak reports whether r ends a clause.
func isClauseBreak(r rune) bool {
	switch r {
	case '.', ',', ';', '!', '?', ':', '\n', '\r', '¿', '¡', '…',
		'。', '，', '；', '！', '？', '、', '：':
		return true
	}
	return false
}

// isHan reports whether r is a Han character.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// textSpeak are words that begin with a digit in text-message spelling.
var textSpeak = map[string]bool{
	"2day": true, "2moro": true, "2morrow": true, "2mrw": true, "2mro": true, "2nite": true, "2night": true,
}

// conjunctions start a new clause: what follows "but" is said apart from what
// precedes it ("I can't pay today but I will pay Friday").
var conjunctions = map[string]bool{
	"but": true, "however": true, "although": true, "though": true,
	"pero": true, "aunque": true, "sino": true,
}

// hanConjunctions are the Chinese words that start a new clause.
var hanConjunctions = []string{"但是", "可是", "不过", "但"}

// tokenize splits s into tokens. Punctuation and spaces separate tokens and
// are dropped; clause-ending punctuation and conjunctions advance the clause
// counter.
func tokenize(s string) []token {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		rs = append(rs, unicode.ToLower(foldWidth(r)))
	}
	toks := make([]token, 0, len(rs)/3+1)
	clause := 0
	glued := false
	var raw, fold strings.Builder
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r >= '0' && r <= '9':
			j := i + 1
			for j < len(rs) {
				if rs[j] >= '0' && rs[j] <= '9' {
					j++
					continue
				}
				if strings.ContainsRune(".,/:-", rs[j]) && j+1 < len(rs) && rs[j+1] >= '0' && rs[j+1] <= '9' {
					j += 2
					continue
				}
				break
			}
			// Text speak such as "2moro": a digit glued to letters forming a known word.
			k := j
			for k < len(rs) && unicode.IsLetter(rs[k]) && !isHan(rs[k]) {
				k++
			}
			if k > j && textSpeak[string(rs[i:k])] {
				w := string(rs[i:k])
				toks = append(toks, token{text: w, raw: w, kind: tWord, clause: clause, glued: glued})
				i, glued = k, true
				continue
			}
			n := string(rs[i:j])
			toks = append(toks, token{text: n, raw: n, kind: tNum, clause: clause, glued: glued})
			i, glued = j, true
		case isHan(r):
			h := string(r)
			toks = append(toks, token{text: h, raw: h, kind: tHan, clause: clause, glued: glued})
			i, glued = i+1, true
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			raw.Reset()
			fold.Reset()
			j := i
			for j < len(rs) {
				c := rs[j]
				if (unicode.IsLetter(c) && !isHan(c)) || unicode.Is(unicode.Mn, c) {
					raw.WriteRune(c)
					if !unicode.Is(unicode.Mn, c) {
						fold.WriteRune(foldAccent(c))
					}
					j++
					continue
				}
				if c == '\'' && j+1 < len(rs) && unicode.IsLetter(rs[j+1]) && !isHan(rs[j+1]) && j > i {
					raw.WriteRune(c)
					fold.WriteRune(c)
					j++
					continue
				}
				break
			}
			w := fold.String()
			if conjunctions[w] {
				clause++
				glued = false
				i = j
				continue
			}
			toks = append(toks, token{text: w, raw: raw.String(), kind: tWord, clause: clause, glued: glued})
			i, glued = j, true
		case unicode.Is(unicode.Sc, r) || r == '#' || r == '%':
			sym := string(r)
			toks = append(toks, token{text: sym, raw: sym, kind: tSym, clause: clause, glued: glued})
			i, glued = i+1, true
		default:
			if isClauseBreak(r) {
				clause++
			}
			i, glued = i+1, false
		}
	}
	return splitHanConjunctions(toks)
}

// splitHanConjunctions removes Chinese conjunctions such as 但是 and starts a
// new clause after each.
func splitHanConjunctions(toks []token) []token {
	out := toks[:0]
	shift := 0
	for i := 0; i < len(toks); {
		matched := 0
		if toks[i].kind == tHan {
			for _, c := range hanConjunctions {
				if hanAt(toks, i, c) {
					matched = len([]rune(c))
					break
				}
			}
		}
		if matched > 0 {
			shift++
			i += matched
			continue
		}
		t := toks[i]
		t.clause += shift
		out = append(out, t)
		i++
	}
	return out
}

// hanAt reports whether the Han characters of s appear at toks[i:].
func hanAt(toks []token, i int, s string) bool {
	for _, r := range s {
		if i >= len(toks) || toks[i].kind != tHan {
			return false
		}
		if h, _ := utf8.DecodeRuneInString(toks[i].text); h != r {
			return false
		}
		i++
	}
	return true
}
