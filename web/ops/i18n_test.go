package ops

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/stretchr/testify/require"
)

// templateMessages returns every literal text the package's templates
// translate: the string argument of each .T or $.T call.
func templateMessages(t *testing.T) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	names, err := fs.Glob(opsTemplateFS, "templates/*.html")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		tmpl, err := template.New(filepath.Base(name)).Funcs(opsFuncs).ParseFS(opsTemplateFS, name)
		require.NoError(t, err, "template %s", name)
		for _, tt := range tmpl.Templates() {
			if tt.Tree == nil {
				continue
			}
			walkTemplate(tt.Tree.Root, func(s string) { found[s] = append(found[s], name) })
		}
	}
	return found
}

// walkTemplate calls fn with the literal argument of every call of a T
// method (.T "…", $.T "…", $x.T "…") under n.
func walkTemplate(n parse.Node, fn func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, fn)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, fn)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 && isT(n.Args[0]) {
			if s, ok := n.Args[1].(*parse.StringNode); ok {
				fn(s.Text)
			}
		}
		for _, a := range n.Args {
			walkTemplate(a, fn)
		}
	case *parse.IfNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.RangeNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.WithNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, fn)
	}
}

func isT(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return n.Ident[len(n.Ident)-1] == "T"
	case *parse.VariableNode:
		return len(n.Ident) > 1 && n.Ident[len(n.Ident)-1] == "T"
	case *parse.ChainNode:
		return len(n.Field) > 0 && n.Field[len(n.Field)-1] == "T"
	}
	return false
}

// goMessages returns every literal text the package's Go code translates:
// the first argument of T, Tf and msg, and the format of opsErrorf.
func goMessages(t *testing.T) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var fname string
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				fname = fun.Sel.Name
			case *ast.Ident:
				fname = fun.Name
			}
			arg := -1
			switch fname {
			case "T", "Tf", "msg":
				arg = 0
			case "opsErrorf":
				arg = 1
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			found[s] = append(found[s], fset.Position(lit.Pos()).String())
			return true
		})
	}
	return found
}

var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestCatalogues fails when the Spanish or Chinese catalogue lacks a text
// that a template or the Go code translates, keeps one that nothing uses,
// or changes the %-verbs of a format (their order and kinds).
func TestCatalogues(t *testing.T) {
	t.Parallel()
	used := templateMessages(t)
	require.Contains(t, used, "Log out", "the collector reads the templates")
	for s, where := range goMessages(t) {
		used[s] = append(used[s], where...)
	}
	require.Contains(t, used, "Funnel", "the collector reads the Go code")
	for _, s := range enumMessages() {
		used[s] = append(used[s], "enumMessages")
	}
	for _, lang := range opsLocales[1:] {
		cat := catalogues[lang]
		require.NotNil(t, cat, "catalogue %s", lang)
		var missing, unused, badVerbs []string
		for s, where := range used {
			tr, ok := cat[s]
			switch {
			case !ok || tr == "":
				missing = append(missing, strconv.Quote(s)+" (used in "+where[0]+")")
			case !slices.Equal(verbs.FindAllString(s, -1), verbs.FindAllString(tr, -1)):
				badVerbs = append(badVerbs, strconv.Quote(s)+" → "+strconv.Quote(tr))
			}
		}
		for s := range cat {
			if _, ok := used[s]; !ok {
				unused = append(unused, strconv.Quote(s))
			}
		}
		sort.Strings(missing)
		sort.Strings(unused)
		require.Empty(t, missing, "the %s catalogue lacks %d texts", lang, len(missing))
		require.Empty(t, unused, "the %s catalogue has texts nothing uses", lang)
		require.Empty(t, badVerbs, "the %s catalogue changes the %%-verbs of formats", lang)
	}
}

func TestPickLang(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, query, cookie, lender, accept, want string
	}{
		{name: "nothing", want: "en"},
		{name: "browser", accept: "es-MX,es;q=0.9", want: "es"},
		{name: "lender over browser", lender: "zh-CN", accept: "en-US,en", want: "zh-CN"},
		{name: "choice over lender", cookie: "es", lender: "zh-CN", want: "es"},
		{name: "query over cookie", query: "zh-CN", cookie: "es", want: "zh-CN"},
		{name: "unknown choice falls through", cookie: "fr", lender: "es", want: "es"},
		{name: "regional variant", accept: "zh-Hans-CN", want: "zh-CN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/ops/?lang="+tc.query, nil)
			if tc.query == "" {
				r = httptest.NewRequest(http.MethodGet, "/ops/", nil)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: OpsLangCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			require.Equal(t, tc.want, pickLang(r, tc.lender))
		})
	}
}

func TestDurationInWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 72 * time.Hour, "3 days"},
		{"en", 24 * time.Hour, "1 day"},
		{"en", 36 * time.Hour, "36 hours"},
		{"en", 2 * time.Hour, "2 hours"},
		{"en", 90 * time.Minute, "90 minutes"},
		{"en", time.Minute, "1 minute"},
		{"en", 45 * time.Second, "45 seconds"},
		{"en", 0, "0 seconds"},
		{"es", 72 * time.Hour, "3 días"},
		{"es", time.Hour, "1 hora"},
		{"zh-CN", 72 * time.Hour, "3 天"},
		{"zh-CN", 2 * time.Hour, "2 小时"},
	} {
		v := &opsView{Lang: tc.lang}
		require.Equal(t, tc.want, v.Duration(tc.d), "%s in %s", tc.d, tc.lang)
	}
}
