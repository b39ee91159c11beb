package templates

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenVariants are the data variants every default template is rendered
// with: SampleData edited, or LongData for the locale.
var goldenVariants = []struct {
	name string
	long bool
	edit func(*Data)
}{
	{"plain", false, func(*Data) {}},
	{"first contact by a debt collector", false, func(d *Data) { d.Disclosure, d.FirstContact = true, true }},
	{"later contact by a debt collector", false, func(d *Data) { d.Disclosure = true }},
	{"no link, one day late", false, func(d *Data) { d.Link, d.DaysLate = "", 1 }},
	{"long data", true, func(*Data) {}},
	{"long data, first contact by a debt collector", true, func(d *Data) { d.Disclosure, d.FirstContact = true, true }},
}

// renderGolden renders every variant of one template in one locale as text.
func renderGolden(t *testing.T, p *Pack, name string, ch nudge.ChannelKind, locale string) string {
	t.Helper()
	var b strings.Builder
	for _, v := range goldenVariants {
		d := SampleData()
		if v.long {
			d = LongData(locale)
		}
		v.edit(&d)
		r, err := p.Render(name, ch, []string{locale}, d)
		require.NoError(t, err, "%s/%s/%s (%s)", locale, ch, name, v.name)
		require.Equal(t, locale, r.Locale)
		fmt.Fprintf(&b, "=== %s\n", v.name)
		switch ch {
		case nudge.SMS:
			fmt.Fprintf(&b, "--- text (%d of %d segments, %s, length %d%s)\n%s\n", r.Segments, r.Budget, r.Encoding, r.Length, transliteratedNote(r), r.Text)
		case nudge.Email:
			fmt.Fprintf(&b, "--- subject\n%s\n--- text\n%s\n--- html\n%s\n", r.Subject, r.Text, r.HTML)
		case nudge.Voice:
			parts := make([]string, 0, len(r.Parts))
			for p := range r.Parts {
				parts = append(parts, p)
			}
			sort.Strings(parts)
			for _, p := range parts {
				fmt.Fprintf(&b, "--- %s\n%s\n", p, r.Parts[p])
			}
		}
	}
	return b.String()
}

// transliteratedNote marks a transliterated SMS in a golden file's header.
func transliteratedNote(r Rendered) string {
	if r.Transliterated {
		return ", transliterated"
	}
	return ""
}

func TestGolden(t *testing.T) {
	t.Parallel()
	p := Default()
	count := 0
	for _, name := range p.Names() {
		for _, ch := range p.Channels(name) {
			for _, loc := range p.Locales(name, ch) {
				count++
				t.Run(loc+"/"+name, func(t *testing.T) {
					t.Parallel()
					got := renderGolden(t, p, name, ch, loc)
					file := filepath.Join("testdata", "golden", loc, name+".golden")
					if *update {
						require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
						require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
						return
					}
					want, err := os.ReadFile(file)
					require.NoError(t, err, "run go test ./templates -run Golden -update to create it")
					require.Equal(t, string(want), got, "rendered output differs from %s (run with -update after checking the change)", file)
				})
			}
		}
	}
	// 12 SMS, 2 email and 1 voice template in each of en, es and zh-CN.
	require.Equal(t, 15*3, count)
}
