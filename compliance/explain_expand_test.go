package compliance

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// TestExpandPlaceholdersMatchesReplacer checks expandPlaceholders against
// the strings.Replacer it replaced, on the awkward cases: adjacent and
// nested braces, unknown names, names that are prefixes of others.
func TestExpandPlaceholdersMatchesReplacer(t *testing.T) {
	t.Parallel()
	values := map[string]string{"zone": "America/Chicago", "zones": "A, B", "max": "", "days": "3"}
	pairs := make([]string, 0, 2*len(values))
	for k, v := range values {
		pairs = append(pairs, "{"+k+"}", v)
	}
	replacer := strings.NewReplacer(pairs...)
	for _, tmpl := range []string{
		"", "no braces", "{", "}", "{}", "{zone}", "{zones}", "{zone}s {zones}", "{foo {zone}", "{{zone}}",
		"{unknown} and {max}.", "}{days", "{days}{days}", "día {zone} {zon", "ünïcode {zone}—{days}",
	} {
		got := expandPlaceholders(tmpl, func(name string) (string, bool) {
			v, ok := values[name]
			return v, ok
		})
		require.Equal(t, replacer.Replace(tmpl), got, "template %q", tmpl)
	}
}

// BenchmarkExplain measures one sentence of a decision's explanation.
func BenchmarkExplain(b *testing.B) {
	e := explainer{lang: LangEnglish, zones: []string{"America/Chicago", "America/New_York"}, hold: "dispute", days: 3}
	b.ReportAllocs()
	for b.Loop() {
		if e.sentence(nudge.ReasonHold, Suppress) == "" {
			b.Fatal("empty sentence")
		}
	}
}
