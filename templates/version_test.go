package templates

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// A rendered template names its version: the same source gives the same
// version, a lender's changed text or another locale gives another, and an
// untouched template keeps the default's.
func TestRenderedVersion(t *testing.T) {
	t.Parallel()
	render := func(p *Pack, name string, ch nudge.ChannelKind, lang string) string {
		t.Helper()
		r, err := p.Render(name, ch, []string{lang}, SampleData())
		require.NoError(t, err)
		return r.Version
	}
	def := render(Default(), "late_sms", nudge.SMS, "en")
	require.Regexp(t, regexp.MustCompile(`^late_sms@en:[0-9a-f]{12}$`), def)
	require.Equal(t, def, render(Default(), "late_sms", nudge.SMS, "en"), "the same source, the same version")
	require.NotEqual(t, def[len("late_sms@en:"):], render(Default(), "late_sms", nudge.SMS, "es")[len("late_sms@es:"):])
	require.Regexp(t, `^late_voice@en:[0-9a-f]{12}$`, render(Default(), "late_voice", nudge.Voice, "en"))

	dir := writeFiles(t, map[string]string{
		"en/sms/late_sms.text.tmpl": "{{.LenderName}}: {{money .Amount}} was due {{date .DueDate}}.{{if .Disclosure}} {{template \"disclosure\" .}}{{end}} {{template \"optout\" .}}\n",
	})
	p, err := Load(dir)
	require.NoError(t, err)
	require.NotEqual(t, def, render(p, "late_sms", nudge.SMS, "en"), "a lender's text is another version")
	require.Equal(t, render(Default(), "due_sms", nudge.SMS, "en"), render(p, "due_sms", nudge.SMS, "en"),
		"a template the override leaves alone keeps its version")
}
