package templates

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// writeFiles creates the files (path → content) under a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func TestDefaultPack(t *testing.T) {
	t.Parallel()
	p := Default()
	require.NoError(t, p.Validate())
	require.Equal(t, []string{
		"broken_promise_sms", "due_email", "due_sms", "help_sms", "late_email", "late_firm_sms", "late_sms",
		"late_voice", "optin_confirm_sms", "optout_confirm_sms", "paid_confirm_sms", "predue_sms", "promise_confirm_sms",
		"promise_too_far_sms", "wrong_number_sms",
	}, p.Names())
	require.True(t, p.Has("late_sms", nudge.SMS))
	require.False(t, p.Has("late_sms", nudge.Email))
	require.True(t, p.Has("due_email", nudge.Email))
	require.True(t, p.Has("late_voice", nudge.Voice))
	require.False(t, p.Has("nope", nudge.SMS))
	require.Equal(t, []nudge.ChannelKind{nudge.Voice}, p.Channels("late_voice"))
	require.Equal(t, []string{"en", "es", "zh-CN"}, p.Locales("late_voice", nudge.Voice))
	require.Same(t, p, Default())
}

func TestRender(t *testing.T) {
	t.Parallel()
	p := Default()
	d := SampleData()
	tests := []struct {
		name     string
		template string
		ch       nudge.ChannelKind
		langs    []string
		edit     func(*Data)
		locale   string
		format   string
		contains []string
	}{
		{name: "en SMS", template: "late_sms", ch: nudge.SMS, langs: []string{"en"}, locale: "en", format: "en-US",
			contains: []string{"Sample Auto Finance", "$412.50", "https://pay.example.com/a/SAMPLE", "Reply STOP to opt out", "5 days late"}},
		{name: "es-MX borrower gets Spanish", template: "due_sms", ch: nudge.SMS, langs: Locales("es-MX", "en"), locale: "es", format: "es-MX",
			contains: []string{"Responde ALTO para cancelar", "1 de junio de 2026"}},
		{name: "Spanish without a country formats money the CLDR es way", template: "due_sms", ch: nudge.SMS, langs: []string{"es"},
			edit: func(d *Data) { d.Country = "" }, locale: "es", format: "es", contains: []string{"412,50 US$"}},
		{name: "zh borrower with a lender default of en", template: "predue_sms", ch: nudge.SMS, langs: Locales("zh", "en"), locale: "zh-CN", format: "zh-CN",
			contains: []string{"回复TD退订", "2026年6月1日", "US$412.50"}},
		{name: "zh-CN borrower in China paying yuan", template: "predue_sms", ch: nudge.SMS, langs: []string{"zh-Hans"},
			edit: func(d *Data) { d.Country, d.Currency = "CN", "CNY" }, locale: "zh-CN", format: "zh-CN", contains: []string{"¥412.50"}},
		{name: "unknown language falls back to the lender default", template: "late_sms", ch: nudge.SMS, langs: Locales("fr", "es"), locale: "es", format: "es-US"},
		{name: "unknown languages fall back to en", template: "late_sms", ch: nudge.SMS, langs: Locales("fr", "de"), locale: "en", format: "en-US"},
		{name: "subsequent disclosure", template: "late_sms", ch: nudge.SMS, langs: []string{"en"}, edit: func(d *Data) { d.Disclosure = true },
			locale: "en", format: "en-US", contains: []string{"This is a communication from a debt collector."}},
		{name: "first-contact disclosure in Spanish", template: "late_email", ch: nudge.Email, langs: []string{"es"},
			edit: func(d *Data) { d.Disclosure, d.FirstContact = true, true }, locale: "es", format: "es-US",
			contains: []string{"Esta es una comunicación de un cobrador de deudas. Se trata de un intento de cobrar una deuda"}},
		{name: "first-contact disclosure in a Spanish SMS, in its SMS form", template: "predue_sms", ch: nudge.SMS, langs: []string{"es"},
			edit: func(d *Data) { d.Disclosure, d.FirstContact = true, true }, locale: "es", format: "es-US",
			contains: []string{"Somos un cobrador de deudas que intenta cobrar una deuda; toda ", " obtenida se usara para ese fin."}},
		{name: "email", template: "due_email", ch: nudge.Email, langs: []string{"en"}, locale: "en", format: "en-US",
			contains: []string{d.UnsubscribeURL}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := SampleData()
			if tc.edit != nil {
				tc.edit(&data)
			}
			r, err := p.Render(tc.template, tc.ch, tc.langs, data)
			require.NoError(t, err)
			require.Equal(t, tc.locale, r.Locale)
			require.Equal(t, tc.format, r.FormatLocale)
			require.Equal(t, tc.template, r.Name)
			require.Equal(t, tc.ch, r.Channel)
			for _, want := range tc.contains {
				require.Contains(t, r.Text, want)
			}
			switch tc.ch {
			case nudge.SMS:
				require.Positive(t, r.Segments)
				require.NotEmpty(t, r.Encoding)
				require.Empty(t, r.HTML)
			case nudge.Email:
				require.NotEmpty(t, r.Subject)
				require.Contains(t, r.HTML, data.UnsubscribeURL)
				require.Zero(t, r.Segments)
			}
		})
	}
}

func TestRenderSMSWithoutDisclosureHasNone(t *testing.T) {
	t.Parallel()
	r, err := Default().Render("late_sms", nudge.SMS, []string{"en"}, SampleData())
	require.NoError(t, err)
	require.NotContains(t, r.Text, "debt collector")
}

func TestRenderVoice(t *testing.T) {
	t.Parallel()
	d := SampleData()
	d.Disclosure = true
	r, err := Default().Render("late_voice", nudge.Voice, []string{"en"}, d)
	require.NoError(t, err)
	require.Len(t, r.Parts, len(VoiceParts))
	require.Equal(t, "Hello, this is Sample Auto Finance. Press 1 if you are Jordan Lee. If you are not Jordan Lee, press 2.", r.Parts[PartGreeting])
	require.Contains(t, r.Parts[PartMessage], "This is a communication from a debt collector.")
	require.Contains(t, r.Parts[PartMenu], "by June 12, 2026, press 1")
	require.Contains(t, r.Parts[PartMenu], "press 9")
	limited := r.Parts[PartLimitedVoicemail]
	for _, banned := range []string{"Sample Auto Finance", "$412.50", "June 1", "debt"} {
		require.NotContains(t, limited, banned)
	}
	require.Contains(t, limited, "8 0 0, 5 5 5, 0 1 9 9")
	require.Empty(t, r.Text)
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	p := Default()
	_, err := p.Render("nope", nudge.SMS, nil, SampleData())
	require.ErrorIs(t, err, ErrNoTemplate)
	_, err = p.Render("late_sms", nudge.Email, nil, SampleData())
	require.ErrorIs(t, err, ErrNoTemplate)

	d := SampleData()
	d.Amount = ""
	_, err = p.Render("late_sms", nudge.SMS, nil, d)
	require.ErrorContains(t, err, "late_sms.text.tmpl")
	require.ErrorContains(t, err, "amount is empty")

	d = SampleData()
	d.LenderName = "Bad\r\nBcc: x@example.com"
	_, err = p.Render("due_email", nudge.Email, nil, d)
	require.ErrorContains(t, err, "subject has a line break")
}

func TestRenderSMSOverTwilioCap(t *testing.T) {
	t.Parallel()
	d := SampleData()
	d.BorrowerName = strings.Repeat("x", MaxSMSChars)
	_, err := Default().Render("late_sms", nudge.SMS, []string{"en"}, d)
	require.ErrorIs(t, err, ErrSMSTooLong)
	require.ErrorContains(t, err, "late_sms.text.tmpl")
}

func TestMissingKeyIsAnError(t *testing.T) {
	t.Parallel()
	file := "en/sms/plan_sms.text.tmpl"
	dir := writeFiles(t, map[string]string{
		file: `{{.LenderName}}: your plan {{.Extra.plan}} starts {{date .DueDate}}.{{if .Disclosure}} {{template "disclosure" .}}{{end}} {{template "optout" .}}`,
	})
	p, err := Load(dir)
	require.NoError(t, err, "validation renders .Extra keys with sample values")

	d := SampleData()
	d.Extra = map[string]string{"plan": "Easy-3"}
	r, err := p.Render("plan_sms", nudge.SMS, []string{"en"}, d)
	require.NoError(t, err)
	require.Equal(t, "Sample Auto Finance: your plan Easy-3 starts June 1, 2026. Reply STOP to opt out", r.Text)

	d.Extra = map[string]string{}
	_, err = p.Render("plan_sms", nudge.SMS, []string{"en"}, d)
	require.ErrorContains(t, err, filepath.Join(dir, filepath.FromSlash(file)))
	require.ErrorContains(t, err, `map has no entry for key "plan"`)

	d.Extra = nil
	_, err = p.Render("plan_sms", nudge.SMS, []string{"en"}, d)
	require.Error(t, err)

	dir = writeFiles(t, map[string]string{"en/sms/nope_sms.text.tmpl": `{{.Nope}}`})
	_, err = Load(dir)
	require.ErrorContains(t, err, "can't evaluate field Nope")
}

func TestLoadOverride(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"en/sms/late_sms.text.tmpl": "{{.LenderName}}: {{.BorrowerName}}, {{money .Amount}} was due {{date .DueDate}}.{{if .Disclosure}} {{template \"disclosure\" .}}{{end}} {{template \"optout\" .}}\n",
		"fr/common.tmpl":            `{{define "optout"}}Répondez STOP pour vous désabonner{{end}}{{define "disclosure"}}{{if .Disclosure}}Ceci est une communication d'un agent de recouvrement.{{end}}{{end}}`,
		"fr/sms/late_sms.text.tmpl": "{{.LenderName}} : {{money .Amount}} dû le {{date .DueDate}}.{{if .Disclosure}} {{template \"disclosure\" .}}{{end}} {{template \"optout\" .}}\n",
		// In UCS-2 (û) the French SMS needs 3 segments with long data:
		// transliterated it fits the default budget of 2.
		"pack.yaml":   "sms:\n  transliterate: [en, es, fr]\n",
		"README.md":   "notes for the lender's team",
		".git/config": "ignored",
	})
	p, err := Load(dir)
	require.NoError(t, err)

	r, err := p.Render("late_sms", nudge.SMS, []string{"en"}, SampleData())
	require.NoError(t, err)
	require.Equal(t, "Sample Auto Finance: Jordan Lee, $412.50 was due June 1, 2026. Reply STOP to opt out", r.Text)
	require.Equal(t, 1, r.Segments)

	d := SampleData()
	d.Country = "FR"
	d.Currency = "EUR"
	r, err = p.Render("late_sms", nudge.SMS, []string{"fr-FR"}, d)
	require.NoError(t, err)
	require.Equal(t, "fr", r.Locale)
	require.Contains(t, r.Text, "412,50 €")
	require.Contains(t, r.Text, "1 juin 2026")

	// Templates the override does not touch still come from the defaults,
	// and a French borrower falls back to English for them.
	r, err = p.Render("due_sms", nudge.SMS, []string{"fr"}, SampleData())
	require.NoError(t, err)
	require.Equal(t, "en", r.Locale)
	require.Equal(t, []string{"en", "es", "fr", "zh-CN"}, p.Locales("late_sms", nudge.SMS))
	// The default pack is unchanged.
	r, err = Default().Render("late_sms", nudge.SMS, []string{"en"}, SampleData())
	require.NoError(t, err)
	require.Contains(t, r.Text, "We're here to help")
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "SMS without the opt-out text",
			files: map[string]string{"en/sms/late_sms.text.tmpl": "{{.LenderName}}: please pay {{money .Amount}} by {{date .DueDate}}.{{if .Disclosure}} {{template \"disclosure\" .}}{{end}}"},
			want:  []string{filepath.Join("en", "sms", "late_sms.text.tmpl"), `does not contain the opt-out text "Reply STOP to opt out"`},
		},
		{
			name:  "Chinese SMS without the opt-out text",
			files: map[string]string{"zh-CN/sms/due_sms.text.tmpl": "【{{.LenderName}}】请还款{{money .Amount}}。"},
			want:  []string{filepath.Join("zh-CN", "sms", "due_sms.text.tmpl"), `"回复TD退订"`},
		},
		{
			name:  "opt-out block without a keyword",
			files: map[string]string{"en/common.tmpl": `{{define "optout"}}Let us know if you want fewer messages{{end}}{{define "disclosure"}}{{if .Disclosure}}This is a communication from a debt collector.{{end}}{{end}}{{define "days"}}{{.}} days{{end}}`},
			want:  []string{"names no opt-out keyword"},
		},
		{
			name:  "email text without the unsubscribe link",
			files: map[string]string{"es/email/due_email.text.tmpl": "Hola {{.BorrowerName}}, su pago de {{money .Amount}} vence el {{date .DueDate}}.{{if .Disclosure}} {{template \"disclosure\" .}}{{end}}"},
			want:  []string{filepath.Join("es", "email", "due_email.text.tmpl"), "unsubscribe link"},
		},
		{
			name:  "email HTML without the unsubscribe link",
			files: map[string]string{"en/email/late_email.html.tmpl": "<p>Please pay {{money .Amount}}.</p>{{if .Disclosure}}<p>{{template \"disclosure\" .}}</p>{{end}}"},
			want:  []string{filepath.Join("en", "email", "late_email.html.tmpl"), "email HTML does not contain the unsubscribe link"},
		},
		{
			name:  "SMS without the disclosure",
			files: map[string]string{"en/sms/due_sms.text.tmpl": "{{.LenderName}}: {{money .Amount}} due {{date .DueDate}}. {{template \"optout\" .}}"},
			want:  []string{filepath.Join("en", "sms", "due_sms.text.tmpl"), "lacks the subsequent debt-collector disclosure", "lacks the first-contact debt-collector disclosure"},
		},
		{
			name:  "limited-content voicemail that mentions the debt",
			files: map[string]string{"en/voice/late_voice.limited_voicemail.tmpl": "Hello {{.BorrowerName}}, this is {{.LenderName}} about {{money .Amount}}. Call {{digits .AgentPhone}}."},
			want:  []string{filepath.Join("en", "voice", "late_voice.limited_voicemail.tmpl"), "must not mention the amount", "must not mention the lender's name"},
		},
		{
			name:  "parse error with line",
			files: map[string]string{"en/sms/late_sms.text.tmpl": "line one\n{{.LenderName | nosuchfunc}}\n"},
			want:  []string{filepath.Join("en", "sms", "late_sms.text.tmpl") + ":2:", `function "nosuchfunc" not defined`},
		},
		{
			name:  "unknown part",
			files: map[string]string{"en/sms/late_sms.txt.tmpl": "hi"},
			want:  []string{filepath.Join("en", "sms", "late_sms.txt.tmpl"), `unknown sms part "txt"`},
		},
		{
			name:  "unknown channel",
			files: map[string]string{"en/fax/late_fax.text.tmpl": "hi"},
			want:  []string{filepath.Join("en", "fax", "late_fax.text.tmpl"), "unknown channel"},
		},
		{
			name:  "not a template",
			files: map[string]string{"en/sms/late_sms.text.txt": "hi"},
			want:  []string{filepath.Join("en", "sms", "late_sms.text.txt"), "not a template"},
		},
		{
			name:  "bad locale directory",
			files: map[string]string{"english!/sms/late_sms.text.tmpl": "hi"},
			want:  []string{"is not a BCP 47 locale"},
		},
		{
			name:  "new email template missing parts",
			files: map[string]string{"en/email/promo_email.subject.tmpl": "Hello"},
			want:  []string{filepath.Join("en", "email", "promo_email.text.tmpl"), filepath.Join("en", "email", "promo_email.html.tmpl"), "missing email part"},
		},
		{
			name: "several bad files are all named",
			files: map[string]string{
				"en/sms/a_sms.text.tmpl": "{{.LenderName}} {{money .Amount}}",
				"es/sms/b_sms.text.tmpl": "{{.LenderName}} {{end}}",
			},
			want: []string{filepath.Join("en", "sms", "a_sms.text.tmpl"), filepath.Join("es", "sms", "b_sms.text.tmpl")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFiles(t, tc.files)
			p, err := Load(dir)
			require.Error(t, err)
			require.Nil(t, p)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestLoadMissingDir(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "template directory")
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = Load(f)
	require.ErrorContains(t, err, "not a directory")
}

func TestDataFor(t *testing.T) {
	t.Parallel()
	acct := nudge.Account{
		ID:        "A-1",
		Borrower:  nudge.Borrower{Name: "Ana Ruiz", Language: "es-MX"},
		Address:   &nudge.Address{Country: "US", Region: "TX"},
		Currency:  "USD",
		AmountDue: "289.00",
		DueDate:   nudge.MustDate("2026-06-01"),
	}
	tests := []struct {
		name     string
		today    string
		daysLate int
		offer    string
	}{
		{name: "before the due date", today: "2026-05-29", daysLate: 0, offer: "2026-06-05"},
		{name: "due date far ahead", today: "2026-05-01", daysLate: 0, offer: "2026-06-01"},
		{name: "late", today: "2026-06-04", daysLate: 3, offer: "2026-06-11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := DataFor(acct, "Acme Auto", nudge.MustDate(tc.today))
			require.Equal(t, "Ana Ruiz", d.BorrowerName)
			require.Equal(t, "Acme Auto", d.LenderName)
			require.Equal(t, "289.00", d.Amount)
			require.Equal(t, "289.00", d.PromiseAmount)
			require.Equal(t, "USD", d.Currency)
			require.Equal(t, "US", d.Country)
			require.Equal(t, tc.daysLate, d.DaysLate)
			require.Equal(t, nudge.MustDate(tc.offer), d.PromiseDate)
		})
	}
	d := DataFor(nudge.Account{AmountDue: "1", Currency: "USD", DueDate: nudge.MustDate("2026-06-01")}, "L", nudge.MustDate("2026-06-01"))
	require.Empty(t, d.Country)
}

func TestRenderConcurrently(t *testing.T) {
	t.Parallel()
	p := Default()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			langs := [][]string{{"en"}, {"es"}, {"zh-CN"}}[i%3]
			for _, tc := range []struct {
				name string
				ch   nudge.ChannelKind
			}{{"late_sms", nudge.SMS}, {"late_email", nudge.Email}, {"late_voice", nudge.Voice}} {
				if _, err := p.Render(tc.name, tc.ch, langs, SampleData()); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
