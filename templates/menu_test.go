package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
)

// menuStart is how each default locale's menu begins.
var menuStart = map[string]string{"en": "Reply 1 ", "es": "Responda 1 ", "zh-CN": "回复1"}

// chineseData is SampleData as a Chinese lender would send it: names as
// Chinese writes them.
func chineseData() Data {
	d := SampleData()
	d.LenderName, d.BorrowerName, d.Amount, d.PromiseAmount = "平安汽车金融", "王伟", "300", "300"
	return d
}

func TestDefaultMenus(t *testing.T) {
	t.Parallel()
	promise := nudge.MenuOption{Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "412.50"}
	paid := nudge.MenuOption{Intent: nudge.IntentPaid}
	tests := []struct {
		name     string
		template string
		locale   string
		data     Data
		menu     nudge.Menu
		text     string
	}{
		{name: "late en", template: "late_sms", locale: "en", data: SampleData(), menu: nudge.Menu{"1": promise, "2": paid},
			text: "Reply 1 to pay $412.50 by Fri 06/12, 2 if you already paid. Reply STOP to opt out."},
		{name: "due en", template: "due_sms", locale: "en", data: SampleData(), menu: nudge.Menu{"1": promise, "2": paid},
			text: "Reply 1 to pay $412.50 by Fri 06/12, 2 if you already paid. Reply STOP to opt out."},
		{name: "firm en", template: "late_firm_sms", locale: "en", data: SampleData(), menu: nudge.Menu{"1": promise, "2": paid},
			text: "Reply 1 to pay $412.50 by Fri 06/12, 2 if you already paid. Reply STOP to opt out."},
		{name: "late es, day first, transliterated", template: "late_sms", locale: "es", data: SampleData(), menu: nudge.Menu{"1": promise, "2": paid},
			text: "Responda 1 para pagar $412.50 el vie 12/06, 2 si ya pago. Responde ALTO para cancelar."},
		{name: "firm es", template: "late_firm_sms", locale: "es", data: SampleData(), menu: nudge.Menu{"1": promise, "2": paid},
			text: "Responda 1 para pagar $412.50 el vie 12/06, 2 si ya pago."},
		{name: "late zh-CN", template: "late_sms", locale: "zh-CN", data: chineseData(),
			menu: nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "300"}, "2": paid},
			text: "回复1承诺6月12日前还US$300.00，回复2表示已还款。回复TD退订"},
		{name: "due zh-CN", template: "due_sms", locale: "zh-CN", data: chineseData(),
			menu: nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "300"}, "2": paid},
			text: "回复1承诺6月12日前还US$300.00，回复2表示已还款。"},
		{name: "a broken promise offers only paid", template: "broken_promise_sms", locale: "en", data: SampleData(),
			menu: nudge.Menu{"1": paid}, text: "Reply 1 if you already paid. Reply STOP to opt out."},
		{name: "a broken promise in zh-CN", template: "broken_promise_sms", locale: "zh-CN", data: chineseData(),
			menu: nudge.Menu{"1": paid}, text: "回复1表示已还款。回复TD退订"},
		{name: "no promise date: paid takes key 1", template: "late_sms", locale: "en",
			data: func() Data { d := SampleData(); d.PromiseDate = nudge.Date{}; return d }(),
			menu: nudge.Menu{"1": paid}, text: "Reply 1 if you already paid. Reply STOP to opt out."},
		{name: "the promised amount is offered", template: "late_sms", locale: "en",
			data: func() Data { d := SampleData(); d.PromiseAmount = "200"; return d }(),
			menu: nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "200"}, "2": paid},
			text: "Reply 1 to pay $200.00 by Fri 06/12, 2 if you already paid."},
		{name: "a caller's menu is ignored", template: "predue_sms", locale: "en",
			data: func() Data { d := SampleData(); d.Menu = []MenuItem{{Key: "1", Intent: nudge.IntentPaid}}; return d }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Default().Render(tc.template, nudge.SMS, []string{tc.locale}, tc.data)
			require.NoError(t, err)
			require.Equal(t, tc.menu, r.Menu)
			require.LessOrEqual(t, r.Segments, r.Budget)
			if tc.menu == nil {
				require.NotContains(t, r.Text, menuStart[tc.locale])
				return
			}
			require.Contains(t, r.Text, tc.text)
		})
	}
}

// TestMenuOnlyWhenShown renders every default SMS in every locale with the
// sample and the long data, with and without each disclosure, and checks
// that a menu is returned exactly when the text shows it, and that it never
// costs the budget.
func TestMenuOnlyWhenShown(t *testing.T) {
	t.Parallel()
	p := Default()
	shown := map[string]int{}
	for _, name := range p.Names() {
		if !p.Has(name, nudge.SMS) {
			continue
		}
		for _, loc := range p.Locales(name, nudge.SMS) {
			datas := []Data{SampleData(), LongData(loc)}
			if loc == "zh-CN" {
				datas = append(datas, chineseData())
			}
			for _, data := range datas {
				for _, v := range budgetVariants {
					d := data
					v.edit(&d)
					r, err := p.Render(name, nudge.SMS, []string{loc}, d)
					require.NoError(t, err)
					require.LessOrEqual(t, r.Segments, r.Budget, "%s %s %s:\n%s", name, loc, v.name, r.Text)
					require.Equal(t, r.Menu != nil, strings.Contains(r.Text, menuStart[loc]), "%s %s %s:\n%s", name, loc, v.name, r.Text)
					if r.Menu != nil {
						require.NotEmpty(t, p.Menu(name), "only templates that declare a menu offer one")
						shown[loc]++
					}
				}
			}
		}
	}
	for loc := range menuStart {
		require.Positive(t, shown[loc], "some default SMS in %s offers a menu", loc)
	}
}

func TestMenuDroppedOverBudget(t *testing.T) {
	t.Parallel()
	d := LongData("en")
	d.Disclosure, d.FirstContact = true, true
	r, err := Default().Render("late_sms", nudge.SMS, []string{"en"}, d)
	require.NoError(t, err)
	require.Nil(t, r.Menu, "with the first-contact disclosure and long data the menu would need a third segment")
	require.NotContains(t, r.Text, "Reply 1")
	require.Equal(t, 2, r.Segments)

	d.FirstContact = false
	r, err = Default().Render("late_sms", nudge.SMS, []string{"en"}, d)
	require.NoError(t, err)
	require.NotNil(t, r.Menu, "with the later-contact disclosure it fits")
	require.Contains(t, r.Text, "Reply 1 to pay $99,999.99 by Mon 09/28, 2 if you already paid.")
	require.Equal(t, 2, r.Segments)
}

func TestShortDate(t *testing.T) {
	t.Parallel()
	d := nudge.MustDate("2026-12-04")
	tests := []struct {
		name    string
		locale  string
		country string
		want    string
	}{
		{name: "English in the US", locale: "en", country: "US", want: "Fri 12/04"},
		{name: "English, no country", locale: "en", want: "Fri 12/04"},
		{name: "English in Britain", locale: "en-GB", want: "Fri 04/12"},
		{name: "English in Ireland", locale: "en", country: "IE", want: "Fri 04/12"},
		{name: "Spanish in the US is day first", locale: "es", country: "US", want: "vie 04/12"},
		{name: "Spanish in Mexico", locale: "es-MX", want: "vie 04/12"},
		{name: "Chinese", locale: "zh-CN", country: "US", want: "12月4日"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := formatterFor(language.MustParse(tc.locale), tc.country)
			got, err := f.ShortDate(d)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	f, err := NewFormatter("en")
	require.NoError(t, err)
	_, err = f.ShortDate(nudge.Date{})
	require.Error(t, err)
}

func TestLenderMenus(t *testing.T) {
	t.Parallel()
	const noMenuCopy = `{{.LenderName}}: {{.BorrowerName}}, please pay {{money .Amount}}.{{if .Disclosure}} {{template "sms_disclosure" .}}{{end}} {{template "optout" .}}.`
	const withMenuCopy = `{{.LenderName}}: please pay {{money .Amount}}.{{if .Disclosure}} {{template "sms_disclosure" .}}{{end}}{{if .Menu}} {{template "menu" .}}{{end}} {{template "optout" .}}.`
	tests := []struct {
		name  string
		files map[string]string
		menu  nudge.Menu
		want  string // an error
	}{
		{name: "menu: [] turns the default menu off", files: map[string]string{"pack.yaml": "sms:\n  templates:\n    late_sms: {menu: []}\n"}},
		{name: "a menu of the lender's choosing", files: map[string]string{"pack.yaml": "sms:\n  templates:\n    late_sms: {menu: [talk_to_person, paid]}\n"},
			menu: nudge.Menu{"1": {Intent: nudge.IntentTalkToPerson}, "2": {Intent: nudge.IntentPaid}}},
		{name: "a budget alone keeps the default menu", files: map[string]string{"pack.yaml": "sms:\n  templates:\n    late_sms: {max_segments: 3}\n"},
			menu: nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "412.50"}, "2": {Intent: nudge.IntentPaid}}},
		{name: "the lender's own copy without a menu offers none", files: map[string]string{"en/sms/late_sms.text.tmpl": noMenuCopy}},
		{name: "the lender's own copy with the menu", files: map[string]string{"en/sms/late_sms.text.tmpl": withMenuCopy},
			menu: nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-12"), Amount: "412.50"}, "2": {Intent: nudge.IntentPaid}}},
		{name: "a lender's menu its copy does not write out", files: map[string]string{
			"pack.yaml":                   "sms:\n  templates:\n    predue_sms: {menu: [paid]}\n",
			"en/sms/predue_sms.text.tmpl": noMenuCopy,
		}, want: `predue_sms.text.tmpl: template predue_sms declares a menu (sms.templates.predue_sms.menu in pack.yaml) but does not write it out with {{template "menu" .}}`},
		{name: "a menu a default template does not write out", files: map[string]string{"pack.yaml": "sms:\n  templates:\n    predue_sms: {menu: [paid]}\n"},
			want: `predue_sms.text.tmpl: template predue_sms declares a menu`},
		{name: "a menu block without keys", files: map[string]string{
			"en/menu.tmpl": `{{define "menu"}}{{if .Menu}}Reply with a number.{{end}}{{end}}`,
		}, want: `the {{define "menu"}} block of locale en does not name key 2 (paid): "Reply with a number."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Load(writeFiles(t, tc.files))
			if tc.want != "" {
				require.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			r, err := p.Render("late_sms", nudge.SMS, []string{"en"}, SampleData())
			require.NoError(t, err)
			require.Equal(t, tc.menu, r.Menu, r.Text)
			require.Equal(t, tc.menu != nil, strings.Contains(r.Text, "Reply 1 "), r.Text)
		})
	}
}
