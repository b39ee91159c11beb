package schedules

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// Problem is one mistake in a cadence file, placed at a line and column.
type Problem struct {
	// File is the file name as given to Parse; empty for a cadence built in Go.
	File string `json:"file,omitempty"`
	// Line and Column are 1-based; zero when the place is unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Field is the path of the field at fault, such as steps[2].template.
	Field string `json:"field,omitempty"`
	// Message says what is wrong, without the place.
	Message string `json:"message"`
}

// String formats the problem as file:line:col: field: message, leaving out
// the parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Column)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every mistake found in one or more cadence files, in file and
// then line order. It is the error Parse, ParseFile and Validate return.
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// DefaultProfiles are the compliance profiles known when no WithProfiles or
// WithProfileNames option is given.
var DefaultProfiles = []string{"us", "cn"}

// Option configures what Parse, ParseFile, ValidateFiles and Validate check
// beyond the format itself.
type Option func(*config)

type config struct {
	templates Templates
	profiles  func(string) bool
}

func newConfig(opts []Option) config {
	c := config{profiles: func(name string) bool { return slices.Contains(DefaultProfiles, name) }}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithTemplates makes every step's template (and fallback template) be
// checked against t for its channel. Without it template names are only
// checked for their form.
func WithTemplates(t Templates) Option { return func(c *config) { c.templates = t } }

// WithProfiles sets the test for known compliance profile names, replacing
// DefaultProfiles.
func WithProfiles(known func(name string) bool) Option {
	return func(c *config) {
		if known != nil {
			c.profiles = known
		}
	}
}

// WithProfileNames sets the known compliance profile names, replacing
// DefaultProfiles.
func WithProfileNames(names ...string) Option {
	names = slices.Clone(names)
	return WithProfiles(func(name string) bool { return slices.Contains(names, name) })
}

// Parse reads one cadence from data and checks it strictly. filename is used
// only to place problems. On any mistake it returns a nil cadence and a
// Problems error listing every mistake of the file.
func Parse(filename string, data []byte, opts ...Option) (*Cadence, error) {
	c, probs := parse(filename, data, newConfig(opts))
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

// ParseFile reads and parses the cadence file at path; see Parse. An
// unreadable file is an error wrapping the os error, not a Problems.
func ParseFile(path string, opts ...Option) (*Cadence, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cadence file: %w", err)
	}
	return Parse(path, data, opts...)
}

// ValidateFiles parses every file and returns every problem of every file, in
// the order of paths and then of lines; nil means all files are valid. An
// unreadable file is one problem without a line. Two files defining the same
// cadence name are a problem too, since names are unique per lender.
func ValidateFiles(paths []string, opts ...Option) []Problem {
	cfg := newConfig(opts)
	var out []Problem
	names := map[string]string{} // cadence name → first file defining it
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			out = append(out, Problem{File: path, Message: fmt.Sprintf("cannot read file: %v", err)})
			continue
		}
		c, probs, loc := parseWithLocator(path, data, cfg)
		if c != nil && c.Name != "" {
			if first, dup := names[c.Name]; dup {
				p := loc.problem("name", fmt.Sprintf("cadence %q is already defined in %s", c.Name, first))
				probs = append(probs, p)
				sortProblems(probs)
			} else {
				names[c.Name] = path
			}
		}
		out = append(out, probs...)
	}
	return out
}

// Validate checks a cadence built in Go or decoded from JSON with the same
// rules as Parse; the problems it returns carry field paths but no lines.
func Validate(c *Cadence, opts ...Option) error {
	if c == nil {
		return Problems{{Message: "no cadence"}}
	}
	loc := &locator{}
	v := &validator{loc: loc, cfg: newConfig(opts)}
	v.cadence(c)
	if len(loc.probs) > 0 {
		return loc.probs
	}
	return nil
}

func parse(filename string, data []byte, cfg config) (*Cadence, Problems) {
	c, probs, _ := parseWithLocator(filename, data, cfg)
	return c, probs
}

// parseWithLocator parses and validates data. It returns the cadence as far
// as it could be decoded (nil only when the YAML itself is unreadable), the
// problems, and the locator that places fields in the file.
func parseWithLocator(filename string, data []byte, cfg config) (*Cadence, Problems, *locator) {
	loc := &locator{file: filename, pos: map[string]*token.Position{}, withPos: true}
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		loc.probs = append(loc.probs, syntaxProblem(filename, err))
		return nil, loc.probs, loc
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		loc.probs = append(loc.probs, Problem{File: filename, Line: 1, Column: 1, Message: "the file is empty; want a cadence mapping with name, profile, applies_to and steps"})
		return nil, loc.probs, loc
	}
	for _, d := range docs[1:] {
		at := d.Body
		if m, ok := at.(*ast.MappingNode); ok && len(m.Values) > 0 && m.Values[0].Key != nil && !m.IsFlowStyle {
			at = m.Values[0].Key
		}
		loc.addRaw("", at, "a cadence file holds exactly one YAML document; move this cadence to its own file")
	}
	d := &decoder{loc: loc, anchors: map[string]ast.Node{}}
	for _, n := range ast.Filter(ast.AnchorType, docs[0].Body) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
			d.anchors[a.Name.String()] = a.Value
		}
	}
	c := &Cadence{}
	if d.cadence(docs[0].Body, c) {
		v := &validator{loc: loc, cfg: cfg}
		v.cadence(c)
	}
	sortProblems(loc.probs)
	return c, loc.probs, loc
}

func syntaxProblem(filename string, err error) Problem {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		p := Problem{File: filename, Message: "YAML syntax error: " + yerr.GetMessage()}
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Column = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return Problem{File: filename, Line: 1, Column: 1, Message: "YAML syntax error: " + err.Error()}
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return false
		}
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
}

// locator records where each field path was found and collects problems,
// at most one per field path.
type locator struct {
	file     string
	withPos  bool
	pos      map[string]*token.Position
	reported map[string]bool
	probs    Problems
}

// see records the position of the node found at path.
func (l *locator) see(path string, n ast.Node) {
	if n == nil || n.GetToken() == nil {
		return
	}
	l.pos[path] = n.GetToken().Position
}

// has reports whether path was present in the file. Without positions (a
// cadence built in Go) every field counts as present.
func (l *locator) has(path string) bool {
	if !l.withPos {
		return true
	}
	_, ok := l.pos[path]
	return ok
}

// place returns the position of path, or of its nearest present parent.
func (l *locator) place(path string) *token.Position {
	for p := path; ; p = parentPath(p) {
		if pos, ok := l.pos[p]; ok {
			return pos
		}
		if p == "" {
			return nil
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (l *locator) problem(path, msg string) Problem {
	p := Problem{File: l.file, Field: path, Message: msg}
	if pos := l.place(path); pos != nil {
		p.Line, p.Column = pos.Line, pos.Column
	}
	return p
}

// add records a problem at the node n (or at path's position when n is nil),
// unless path already has one.
func (l *locator) add(path string, n ast.Node, msg string) {
	if l.reported == nil {
		l.reported = map[string]bool{}
	}
	if path != "" && l.reported[path] {
		return
	}
	l.reported[path] = true
	l.addRaw(path, n, msg)
}

// addRaw records a problem at the node n without the one-per-field limit.
func (l *locator) addRaw(path string, n ast.Node, msg string) {
	p := l.problem(path, msg)
	if n != nil && n.GetToken() != nil && n.GetToken().Position != nil {
		p.Line, p.Column = n.GetToken().Position.Line, n.GetToken().Position.Column
	}
	l.probs = append(l.probs, p)
}

func (l *locator) addf(path string, n ast.Node, format string, args ...any) {
	l.add(path, n, fmt.Sprintf(format, args...))
}

// decoder fills a Cadence from the YAML AST, reporting unknown and duplicate
// keys and values of the wrong type.
type decoder struct {
	loc     *locator
	anchors map[string]ast.Node
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve strips anchors, tags and aliases off n.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; i < 16 && n != nil; i++ {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.AliasNode:
			if x.Value == nil {
				return nil
			}
			target, ok := d.anchors[x.Value.String()]
			if !ok {
				return x
			}
			n = target
		default:
			return n
		}
	}
	return n
}

func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "a number"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a decimal number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AliasNode:
		return "an alias to an unknown anchor"
	}
	return "a " + strings.ToLower(n.Type().String())
}

type field struct {
	key    string
	decode func(path string, value ast.Node)
}

// mapping walks the mapping n at path, decoding known keys with fields and
// reporting unknown keys, duplicate keys and merge keys. It reports whether n
// is a mapping.
func (d *decoder) mapping(path string, n ast.Node, fields []field) bool {
	n = d.resolve(n)
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		if n == nil {
			d.loc.add(path, nil, "want a mapping, got nothing")
		} else {
			d.loc.addf(path, n, "want a mapping, got %s", kindOf(n))
		}
		return false
	}
	d.loc.see(path, n)
	if len(values) > 0 && values[0].Key != nil && !isFlow(n) {
		// A block mapping is placed at its first key, not at its first ':'.
		d.loc.see(path, values[0].Key)
	}
	seen := map[string]bool{}
	for _, mv := range values {
		if mv.Key == nil {
			continue
		}
		if mv.Key.IsMergeKey() {
			d.loc.add(join(path, "<<"), mv.Key, "merge keys (<<) are not supported; write the fields out")
			continue
		}
		key := mv.Key.String()
		if ks, ok := d.resolve(mv.Key).(*ast.StringNode); ok {
			key = ks.Value
		}
		kp := join(path, key)
		if seen[key] {
			d.loc.addRaw(kp, mv.Key, fmt.Sprintf("duplicate key %q; each key may appear once", key))
			continue
		}
		seen[key] = true
		i := slices.IndexFunc(fields, func(f field) bool { return f.key == key })
		if i < 0 {
			msg, suggestion := unknownKeyMessage(path, key, fields)
			d.loc.add(kp, mv.Key, msg)
			if suggestion != "" && !hasKey(values, suggestion) {
				// The misspelt key stands for the suggested one: do not also
				// report the suggested key as missing.
				d.loc.see(join(path, suggestion), mv.Key)
				d.loc.reported[join(path, suggestion)] = true
			}
			continue
		}
		if mv.Value != nil && mv.Value.GetToken() != nil {
			d.loc.see(kp, mv.Value)
		} else {
			d.loc.see(kp, mv.Key)
		}
		fields[i].decode(kp, mv.Value)
	}
	return true
}

func isFlow(n ast.Node) bool {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.IsFlowStyle
	case *ast.MappingValueNode:
		return m.IsFlowStyle
	}
	return false
}

func hasKey(values []*ast.MappingValueNode, key string) bool {
	for _, mv := range values {
		if mv.Key != nil && mv.Key.String() == key {
			return true
		}
	}
	return false
}

// unknownKeyMessage explains an unknown key, suggesting the closest known
// key when one is near; it returns the message and the suggestion.
func unknownKeyMessage(path, key string, fields []field) (string, string) {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	keys := make([]string, len(fields))
	best, bestDist := "", 3
	for i, f := range fields {
		keys[i] = f.key
		if dist := editDistance(key, f.key); dist < bestDist {
			best, bestDist = f.key, dist
		}
	}
	msg := fmt.Sprintf("unknown key %q %s", key, where)
	if best != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", best), best
	}
	return msg + " (known keys: " + strings.Join(keys, ", ") + ")", ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str decodes a string scalar; null decodes to "".
func (d *decoder) str(path string, n ast.Node, dst *string) {
	switch x := d.resolve(n).(type) {
	case nil, *ast.NullNode:
		*dst = ""
	case *ast.StringNode:
		*dst = x.Value
	case *ast.LiteralNode:
		if x.Value != nil {
			*dst = x.Value.Value
		}
	default:
		d.loc.addf(path, n, "want a string, got %s (%s)", kindOf(x), x.String())
	}
}

// integer decodes a whole number.
func (d *decoder) integer(path string, n ast.Node, dst *int) {
	switch x := d.resolve(n).(type) {
	case *ast.IntegerNode:
		var v int64
		switch iv := x.Value.(type) {
		case int64:
			v = iv
		case uint64:
			if iv > math.MaxInt32 {
				d.loc.addf(path, n, "number %s is too large", x.String())
				return
			}
			v = int64(iv)
		}
		if v > math.MaxInt32 || v < math.MinInt32 {
			d.loc.addf(path, n, "number %s is too large", x.String())
			return
		}
		*dst = int(v)
	case nil, *ast.NullNode:
		d.loc.add(path, n, "want a whole number, got nothing")
	case *ast.StringNode:
		if _, err := strconv.Atoi(x.Value); err == nil {
			d.loc.addf(path, n, "want a whole number, got the string %q (remove the quotes)", x.Value)
			return
		}
		d.loc.addf(path, n, "want a whole number, got the string %q", x.Value)
	default:
		d.loc.addf(path, n, "want a whole number, got %s (%s)", kindOf(x), x.String())
	}
}

// list decodes a sequence, calling item for each entry; null decodes to an
// empty list.
func (d *decoder) list(path string, n ast.Node, item func(path string, n ast.Node)) {
	switch x := d.resolve(n).(type) {
	case nil, *ast.NullNode:
	case *ast.SequenceNode:
		for i, v := range x.Values {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.loc.see(ip, v)
			item(ip, v)
		}
	default:
		d.loc.addf(path, n, "want a list, got %s", kindOf(x))
	}
}

func (d *decoder) strings(path string, n ast.Node, dst *[]string) {
	d.list(path, n, func(ip string, v ast.Node) {
		var s string
		d.str(ip, v, &s)
		*dst = append(*dst, s)
	})
}

func (d *decoder) cadence(n ast.Node, c *Cadence) bool {
	return d.mapping("", n, []field{
		{"name", func(p string, v ast.Node) { d.str(p, v, &c.Name) }},
		{"description", func(p string, v ast.Node) { d.str(p, v, &c.Description) }},
		{"profile", func(p string, v ast.Node) { d.str(p, v, &c.Profile) }},
		{"applies_to", func(p string, v ast.Node) { d.appliesTo(p, v, &c.AppliesTo) }},
		{"language", func(p string, v ast.Node) { d.str(p, v, &c.Language) }},
		{"steps", func(p string, v ast.Node) { d.steps(p, v, &c.Steps) }},
		{"stop_when", func(p string, v ast.Node) {
			d.list(p, v, func(ip string, v ast.Node) {
				var s string
				d.str(ip, v, &s)
				c.StopWhen = append(c.StopWhen, StopCondition(s))
			})
		}},
		{"broken_promise", func(p string, v ast.Node) { d.steps(p, v, &c.BrokenPromise) }},
		{"experiment", func(p string, v ast.Node) { d.experiment(p, v, c) }},
	})
}

func (d *decoder) appliesTo(path string, n ast.Node, a *AppliesTo) {
	d.mapping(path, n, []field{
		{"portfolios", func(p string, v ast.Node) { d.strings(p, v, &a.Portfolios) }},
		{"days_past_due", func(p string, v ast.Node) {
			d.mapping(p, v, []field{
				{"min", func(p string, v ast.Node) { d.integer(p, v, &a.DaysPastDue.Min) }},
				{"max", func(p string, v ast.Node) { d.integer(p, v, &a.DaysPastDue.Max) }},
			})
		}},
	})
}

func (d *decoder) steps(path string, n ast.Node, dst *[]Step) {
	d.list(path, n, func(ip string, v ast.Node) {
		var s Step
		d.step(ip, v, &s)
		*dst = append(*dst, s)
	})
}

func (d *decoder) step(path string, n ast.Node, s *Step) {
	d.mapping(path, n, []field{
		{"id", func(p string, v ast.Node) { d.str(p, v, &s.ID) }},
		{"day", func(p string, v ast.Node) { d.integer(p, v, &s.Day) }},
		{"at", func(p string, v ast.Node) {
			var raw string
			if x, ok := d.resolve(v).(*ast.IntegerNode); ok {
				d.loc.addf(p, v, "want a time of day like \"09:30\" (HH:MM), got the number %s", x.String())
				return
			}
			d.str(p, v, &raw)
			if raw == "" {
				return
			}
			t, err := ParseClockTime(raw)
			if err != nil {
				d.loc.add(p, v, err.Error())
				return
			}
			s.At = t
		}},
		{"channel", func(p string, v ast.Node) {
			var raw string
			d.str(p, v, &raw)
			s.Channel = nudge.ChannelKind(raw)
		}},
		{"template", func(p string, v ast.Node) { d.str(p, v, &s.Template) }},
		{"fallback", func(p string, v ast.Node) {
			var raw string
			d.str(p, v, &raw)
			s.Fallback = nudge.ChannelKind(raw)
		}},
		{"fallback_template", func(p string, v ast.Node) { d.str(p, v, &s.FallbackTemplate) }},
		{"kind", func(p string, v ast.Node) { d.str(p, v, &s.Kind) }},
		{"instructions", func(p string, v ast.Node) { d.str(p, v, &s.Instructions) }},
	})
}

// validator checks the meaning of a decoded cadence: required fields, names,
// known profile, channels, templates, days and stop conditions.
type validator struct {
	loc *locator
	cfg config
}

func (v *validator) add(path, msg string) { v.loc.add(path, nil, msg) }

func (v *validator) addf(path, format string, args ...any) { v.add(path, fmt.Sprintf(format, args...)) }

// required reports a missing field and returns false when path is absent or empty.
func (v *validator) required(path string, empty bool) bool {
	key := path[strings.LastIndexAny(path, ".]")+1:]
	if !v.loc.has(path) {
		v.addf(path, "missing required field %q", key)
		return false
	}
	if empty {
		v.addf(path, "%q must not be empty", key)
		return false
	}
	return true
}

func (v *validator) name(path, s, what string) {
	if !v.required(path, s == "") {
		return
	}
	if len(s) > MaxNameLength {
		v.addf(path, "%s %q is longer than %d characters", what, s, MaxNameLength)
		return
	}
	if !nameRE.MatchString(s) {
		v.addf(path, "%s %q may hold only lowercase letters, digits and single dashes between them (like predue-sms)", what, s)
	}
}

func (v *validator) cadence(c *Cadence) {
	v.name("name", c.Name, "cadence name")
	if v.required("profile", c.Profile == "") && !v.cfg.profiles(c.Profile) {
		v.addf("profile", "unknown compliance profile %q", c.Profile)
	}
	if c.Language != "" {
		if _, err := language.Parse(c.Language); err != nil {
			v.addf("language", "%q is not a BCP 47 language tag like en or zh-CN", c.Language)
		}
	}
	rangeOK := v.appliesTo(c.AppliesTo)
	if v.required("steps", len(c.Steps) == 0) {
		for i, s := range c.Steps {
			v.step(fmt.Sprintf("steps[%d]", i), s, false, c.AppliesTo.DaysPastDue, rangeOK)
		}
	}
	for i, s := range c.BrokenPromise {
		v.step(fmt.Sprintf("broken_promise[%d]", i), s, true, DayRange{}, false)
	}
	ids := map[string]string{}
	checkID := func(path, id string) {
		if id == "" {
			return
		}
		if first, ok := ids[id]; ok {
			v.addf(path+".id", "duplicate step id %q (first used at %s)", id, first)
			return
		}
		ids[id] = path
	}
	for i, s := range c.Steps {
		checkID(fmt.Sprintf("steps[%d]", i), s.ID)
	}
	for i, s := range c.BrokenPromise {
		checkID(fmt.Sprintf("broken_promise[%d]", i), s.ID)
	}
	v.experiment(c, rangeOK)
	if v.loc.withPos && v.loc.has("stop_when") && len(c.StopWhen) == 0 {
		v.add("stop_when", "stop_when lists no condition; list at least one, or omit stop_when to use all of them")
	}
	seen := map[StopCondition]bool{}
	for i, s := range c.StopWhen {
		p := fmt.Sprintf("stop_when[%d]", i)
		switch {
		case !s.Valid():
			v.addf(p, "unknown stop condition %q (want %s)", s, joinConditions())
		case seen[s]:
			v.addf(p, "stop condition %q is listed twice", s)
		}
		seen[s] = true
	}
}

func joinConditions() string {
	names := make([]string, len(AllStopConditions))
	for i, s := range AllStopConditions {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// appliesTo checks applies_to and reports whether the day range is usable
// for checking step days.
func (v *validator) appliesTo(a AppliesTo) bool {
	if !v.required("applies_to", false) || v.loc.reported["applies_to"] {
		return false
	}
	seen := map[string]bool{}
	for i, p := range a.Portfolios {
		path := fmt.Sprintf("applies_to.portfolios[%d]", i)
		switch {
		case strings.TrimSpace(p) == "":
			v.add(path, "portfolio name must not be empty")
		case seen[p]:
			v.addf(path, "portfolio %q is listed twice", p)
		}
		seen[p] = true
	}
	if !v.required("applies_to.days_past_due", false) || v.loc.reported["applies_to.days_past_due"] {
		return false
	}
	minOK := v.required("applies_to.days_past_due.min", false)
	maxOK := v.required("applies_to.days_past_due.max", false)
	if !minOK || !maxOK || v.loc.reported["applies_to.days_past_due.min"] || v.loc.reported["applies_to.days_past_due.max"] {
		return false
	}
	r := a.DaysPastDue
	if r.Min > r.Max {
		v.addf("applies_to.days_past_due.max", "max (%d) is before min (%d)", r.Max, r.Min)
		return false
	}
	return true
}

func (v *validator) step(path string, s Step, brokenPromise bool, r DayRange, rangeOK bool) {
	if v.loc.reported[path] {
		return // not a mapping: already reported
	}
	v.name(path+".id", s.ID, "step id")
	dayPath := path + ".day"
	if v.required(dayPath, false) && !v.loc.reported[dayPath] {
		switch {
		case brokenPromise && s.Day < 1:
			v.addf(dayPath, "day %d: a broken-promise step counts days after the promised date and starts at 1", s.Day)
		case !brokenPromise && rangeOK && !r.Contains(s.Day):
			v.addf(dayPath, "day %d is outside the cadence's days_past_due range %s", s.Day, r)
		}
	}
	v.required(path+".at", false)
	chPath := path + ".channel"
	if s.Channel == nudge.Task && v.loc.has(chPath) {
		v.task(path, s)
		return
	}
	for _, f := range []struct{ key, val string }{{"kind", s.Kind}, {"instructions", s.Instructions}} {
		if f.val != "" {
			v.addf(path+"."+f.key, "%s is set but the step is not a task step (channel: task)", f.key)
		}
	}
	chOK := false
	if v.required(chPath, s.Channel == "") {
		if s.Channel.Valid() {
			chOK = true
		} else {
			v.addf(chPath, "unknown channel %q (want sms, voice, email or task)", s.Channel)
		}
	}
	v.template(path+".template", s.Template, s.Channel, chOK)
	fbOK := false
	if s.Fallback != "" {
		fbPath := path + ".fallback"
		switch {
		case !s.Fallback.Valid():
			v.addf(fbPath, "unknown fallback channel %q (want sms, voice or email)", s.Fallback)
		case s.Fallback == s.Channel:
			v.addf(fbPath, "fallback %q is the step's own channel; name a different channel or remove it", s.Fallback)
		default:
			fbOK = true
		}
	}
	switch {
	case s.FallbackTemplate != "" && s.Fallback == "":
		v.add(path+".fallback_template", "fallback_template is set but the step has no fallback channel")
	case s.FallbackTemplate != "":
		v.template(path+".fallback_template", s.FallbackTemplate, s.Fallback, fbOK)
	case fbOK && s.Template != "" && v.cfg.templates != nil && !v.cfg.templates.Has(s.Template, s.Fallback):
		v.addf(path+".fallback", "template %q has no %s version for the fallback channel; set fallback_template", s.Template, s.Fallback)
	}
}

// task checks a task step: a valid kind and instructions, and none of the
// fields of a message step.
func (v *validator) task(path string, s Step) {
	if v.required(path+".kind", s.Kind == "") && !kindRE.MatchString(s.Kind) {
		v.addf(path+".kind", "work item kind %q must be lowercase letters, digits and '_', starting with a letter, 2 to 32 long (built in: %s)",
			s.Kind, strings.Join(nudge.WorkKinds, ", "))
	}
	v.required(path+".instructions", strings.TrimSpace(s.Instructions) == "")
	for _, f := range []struct{ key, val string }{
		{"template", s.Template}, {"fallback", string(s.Fallback)}, {"fallback_template", s.FallbackTemplate},
	} {
		if f.val != "" {
			v.addf(path+"."+f.key, "a task step creates a work item and sends nothing: remove %s", f.key)
		}
	}
}

func (v *validator) template(path, name string, ch nudge.ChannelKind, chOK bool) {
	if !v.required(path, name == "") {
		return
	}
	if !templateRE.MatchString(name) {
		v.addf(path, "template name %q may hold only lowercase letters, digits, '_', '.' and '-'", name)
		return
	}
	if chOK && v.cfg.templates != nil && !v.cfg.templates.Has(name, ch) {
		v.addf(path, "unknown template %q for channel %s", name, ch)
	}
}
