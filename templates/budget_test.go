package templates

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

func TestLongData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		locale string
		person string
		date   string
		amount string
	}{
		{name: "English", locale: "en", person: LongBorrowerName, date: "September 28, 2026", amount: "$99,999.99"},
		{name: "Spanish", locale: "es", person: LongBorrowerName, date: "28 de septiembre de 2026", amount: "$99,999.99"},
		{name: "Chinese", locale: "zh-CN", person: LongChineseName, date: "2026年10月28日", amount: "US$99,999.99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := LongData(tc.locale)
			require.Equal(t, tc.person, d.BorrowerName)
			require.Equal(t, LongLink, d.Link)
			require.Equal(t, LongAmount, d.Amount)
			require.Equal(t, LongAmount, d.PromiseAmount)
			require.Equal(t, LongDaysLate, d.DaysLate)
			f := formatterFor(language.MustParse(tc.locale), d.Country)
			due, err := f.Date(d.DueDate)
			require.NoError(t, err)
			require.Equal(t, tc.date, plainSpaces.Replace(due))
			require.Equal(t, d.DueDate, d.PromiseDate)
			money, err := f.Money(d.Amount, d.Currency)
			require.NoError(t, err)
			require.Equal(t, tc.amount, money)
		})
	}
	require.Equal(t, 30, utf8.RuneCountInString(LongBorrowerName))
	require.False(t, IsGSM7(LongBorrowerName), "the name alone would make a text UCS-2")
	require.Equal(t, 40, utf8.RuneCountInString(LongLink))
}

// TestDefaultSMSWithinBudget renders every default SMS template in every
// locale with the long data, without and with each disclosure, and holds it
// to its budget.
func TestDefaultSMSWithinBudget(t *testing.T) {
	t.Parallel()
	p := Default()
	count := 0
	for _, name := range p.Names() {
		if !p.Has(name, nudge.SMS) {
			continue
		}
		for _, loc := range p.Locales(name, nudge.SMS) {
			for _, v := range budgetVariants {
				count++
				t.Run(loc+"/"+name+"/"+v.name, func(t *testing.T) {
					t.Parallel()
					d := LongData(loc)
					v.edit(&d)
					r, err := p.Render(name, nudge.SMS, []string{loc}, d)
					require.NoError(t, err)
					require.Equal(t, loc, r.Locale)
					require.Equal(t, DefaultMaxSegments, r.Budget)
					require.LessOrEqual(t, r.Segments, r.Budget, "%s in %s: %s %d characters:\n%s", name, loc, r.Encoding, r.Length, r.Text)
					require.False(t, r.OverBudget())
					if loc == "zh-CN" {
						require.Equal(t, UCS2, r.Encoding, "Chinese is never transliterated")
						require.False(t, r.Transliterated)
					}
				})
			}
		}
	}
	require.Equal(t, 12*3*len(budgetVariants), count)
}

func TestBudgetValidation(t *testing.T) {
	t.Parallel()
	const longCopy = "{{.LenderName}}: Hola, {{.BorrowerName}}. No hemos recibido su pago de {{money .Amount}} que vencía el {{date .DueDate}} (hace {{template \"days\" .DaysLate}}). Si tuvo algún imprevisto, estamos para ayudarle. Pague o vea sus opciones: {{.Link}}{{if .Disclosure}} {{template \"disclosure\" .}}{{end}} {{template \"optout\" .}}."
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each in the error; none: the pack loads
	}{
		{
			name:  "lender copy over the budget names the template and the language",
			files: map[string]string{"es/sms/late_sms.text.tmpl": longCopy},
			want: []string{
				filepath.Join("es", "sms", "late_sms.text.tmpl") + ": SMS template late_sms in es needs 3 segments (GSM-7, ",
				"with long data (first-contact disclosure), over its budget of 2",
				"sms.templates.late_sms.max_segments in pack.yaml",
			},
		},
		{
			name: "the same copy with a budget of its own",
			files: map[string]string{
				"es/sms/late_sms.text.tmpl": longCopy,
				"pack.yaml":                 "sms:\n  templates:\n    late_sms: {max_segments: 3}\n",
			},
		},
		{
			name:  "Chinese copy over the budget",
			files: map[string]string{"zh-CN/sms/due_sms.text.tmpl": "【{{.LenderName}}】{{.BorrowerName}}您好，您的还款{{money .Amount}}今天（{{date .DueDate}}）到期。如已还款，感谢您的配合。在线还款或查看方案：{{.Link}} {{template \"disclosure\" .}}{{template \"optout\" .}}"},
			want: []string{
				filepath.Join("zh-CN", "sms", "due_sms.text.tmpl") + ": SMS template due_sms in zh-CN needs 3 segments (UCS-2, ",
				"shorten it (UCS-2: 67 characters a part) or raise its budget",
			},
		},
		{
			name:  "Spanish not transliterated: the default Spanish copy is UCS-2 and over",
			files: map[string]string{"pack.yaml": "sms:\n  transliterate: [en]\n"},
			want: []string{
				"SMS template late_sms in es needs", "SMS template predue_sms in es needs", "(UCS-2, ",
				"transliterate es (sms.transliterate in pack.yaml)",
			},
		},
		{
			name:  "Spanish not transliterated with a budget to match",
			files: map[string]string{"pack.yaml": "sms:\n  max_segments: 5\n  transliterate: [en]\n"},
		},
		{
			name:  "a budget of one segment",
			files: map[string]string{"pack.yaml": "sms:\n  max_segments: 1\n"},
			want:  []string{"SMS template late_sms in en needs 2 segments", "over its budget of 1", "SMS template late_sms in zh-CN needs 2 segments"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tc.files)
			p, err := Load(dir)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				require.NotNil(t, p)
				return
			}
			require.Error(t, err)
			require.Nil(t, p)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"pack.yaml": "# Acme pays for accents in Spanish.\nsms:\n  max_segments: 5\n  transliterate: [en]\n  templates:\n    help_sms: {max_segments: 6}\n",
	})
	p, err := Load(dir)
	require.NoError(t, err)
	require.Equal(t, 5, p.Budget("late_sms"))
	require.Equal(t, 6, p.Budget("help_sms"))
	require.True(t, p.Transliterates("en"))
	require.False(t, p.Transliterates("es"))
	s := p.SMS()
	require.Equal(t, 5, s.MaxSegments)
	require.Equal(t, []string{"en"}, s.Transliterate)
	require.Equal(t, 6, s.Budgets["help_sms"])

	d := Default()
	require.Equal(t, DefaultMaxSegments, d.Budget("late_sms"))
	require.True(t, d.Transliterates("en"))
	require.True(t, d.Transliterates("es"))
	require.False(t, d.Transliterates("zh-CN"))

	// A Spanish text over its budget keeps its accents where the pack
	// does not transliterate Spanish (and pays for it).
	long := LongData("es")
	r, err := p.Render("late_sms", nudge.SMS, []string{"es"}, long)
	require.NoError(t, err)
	require.Equal(t, UCS2, r.Encoding)
	require.Contains(t, r.Text, "María")
	require.False(t, r.Transliterated)
	r, err = d.Render("late_sms", nudge.SMS, []string{"es"}, long)
	require.NoError(t, err)
	require.Equal(t, GSM7, r.Encoding)
	require.Contains(t, r.Text, "Maria José Fernandez-Castañeda")
	require.True(t, r.Transliterated)
}

func TestSettingsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "unknown key", yaml: "sms:\n  max_segment: 3\n", want: []string{"pack.yaml:2:", "max_segment"}},
		{name: "not YAML", yaml: "sms: [\n", want: []string{"pack.yaml"}},
		{name: "no segments", yaml: "sms:\n  max_segments: 0\n", want: []string{"pack.yaml:2: sms.max_segments: 0 segments is not a budget (want 1 to 10)"}},
		{name: "too many segments", yaml: "sms:\n  templates:\n    late_sms: {max_segments: 11}\n", want: []string{"pack.yaml:3: sms.templates.late_sms.max_segments: 11 segments is not a budget"}},
		{name: "template without a budget", yaml: "sms:\n  templates:\n    late_sms: {}\n", want: []string{"sms.templates.late_sms: max_segments or menu is required"}},
		{name: "consent cannot be offered", yaml: "sms:\n  templates:\n    late_sms: {menu: [paid, opt_in]}\n", want: []string{"pack.yaml:3: sms.templates.late_sms.menu[1]: \"opt_in\" cannot be offered (want one of promise, paid, talk_to_person)"}},
		{name: "an opt-out cannot be offered", yaml: "sms:\n  templates:\n    late_sms:\n      menu: [opt_out]\n", want: []string{"sms.templates.late_sms.menu[0]: \"opt_out\" cannot be offered"}},
		{name: "an option twice", yaml: "sms:\n  templates:\n    late_sms: {menu: [paid, paid]}\n", want: []string{"sms.templates.late_sms.menu[1]: paid is offered twice"}},
		{name: "a menu for an email", yaml: "sms:\n  templates:\n    due_email: {menu: [paid]}\n", want: []string{"no SMS template named \"due_email\""}},
		{name: "unknown template", yaml: "sms:\n  templates:\n    late_smss: {max_segments: 3}\n", want: []string{"pack.yaml:3: sms.templates.late_smss: no SMS template named \"late_smss\"", "late_sms"}},
		{name: "an email template", yaml: "sms:\n  templates:\n    due_email: {max_segments: 3}\n", want: []string{"no SMS template named \"due_email\""}},
		{name: "Chinese cannot be transliterated", yaml: "sms:\n  transliterate: [en, zh-CN]\n", want: []string{"pack.yaml:2: sms.transliterate[1]: zh-CN is not written in the Latin script"}},
		{name: "not a locale", yaml: "sms:\n  transliterate: [english!]\n", want: []string{"sms.transliterate[0]: \"english!\" is not a BCP 47 locale"}},
		{name: "a locale twice", yaml: "sms:\n  transliterate: [es, es]\n", want: []string{"sms.transliterate[1]: es is listed twice"}},
		{name: "pack.yaml only at the root", yaml: "", want: []string{filepath.Join("en", "pack.yaml"), "not a template"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := "pack.yaml"
			if tc.yaml == "" {
				file = "en/pack.yaml"
			}
			dir := writeFiles(t, map[string]string{file: tc.yaml})
			p, err := Load(dir)
			require.Error(t, err)
			require.Nil(t, p)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			if file == "pack.yaml" {
				require.True(t, strings.Contains(err.Error(), filepath.Join(dir, "pack.yaml")), "the error names the file: %v", err)
			}
		})
	}
}

func TestRenderOverBudget(t *testing.T) {
	t.Parallel()
	// A name with no GSM-7 form keeps the text UCS-2: real data can go over
	// the budget the long data fits, and the caller sees it.
	d := LongData("en")
	d.BorrowerName = "欧阳娜娜 María José Fernández"
	d.Disclosure, d.FirstContact = true, true
	r, err := Default().Render("late_sms", nudge.SMS, []string{"en"}, d)
	require.NoError(t, err)
	require.Equal(t, UCS2, r.Encoding)
	require.False(t, r.Transliterated)
	require.Equal(t, 2, r.Budget)
	require.Greater(t, r.Segments, r.Budget)
	require.True(t, r.OverBudget())

	e, err := Default().Render("late_email", nudge.Email, []string{"en"}, SampleData())
	require.NoError(t, err)
	require.False(t, e.OverBudget(), "only SMS have a budget")
	require.Zero(t, e.Budget)
}
