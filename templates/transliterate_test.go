package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTransliterate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		changed bool
	}{
		{name: "GSM-7 text is left alone", in: "Reply STOP to opt out. {€}", want: "Reply STOP to opt out. {€}"},
		{name: "accents GSM-7 lacks are dropped", in: "García Núñez, días, Ángel, Inés", want: "Garcia Nuñez, dias, Angel, Inés", changed: true},
		{name: "accents GSM-7 has stay", in: "José Müller Ñandú à è é ì ò ù Ç ç", want: "José Müller Ñandu à è é ì ò ù Ç c", changed: true},
		{name: "the long test name", in: LongBorrowerName, want: "Maria José Fernandez-Castañeda", changed: true},
		{name: "typographic quotes, dashes and spaces", in: "“Hi” it’s 5\u00a0–\u2009…", want: `"Hi" it's 5 - ...`, changed: true},
		{name: "letters without a decomposition", in: "Łukasz Œuvre Đorđe", want: "Lukasz OEuvre Dorde", changed: true},
		{name: "fullwidth forms", in: "Ｐａｙ！", want: "Pay!", changed: true},
		{name: "Chinese keeps the whole text as written", in: "王伟 García", want: "王伟 García"},
		{name: "an emoji keeps the whole text as written", in: "Gracias 🙏 García", want: "Gracias 🙏 García"},
		{name: "a backtick", in: "it`s", want: "it's", changed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changed := Transliterate(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.changed, changed)
			if tc.changed {
				require.True(t, IsGSM7(got), "transliterated text is GSM-7")
			}
		})
	}
}

func TestCanTransliterate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		locale string
		want   bool
	}{
		{name: "English", locale: "en", want: true},
		{name: "Spanish", locale: "es", want: true},
		{name: "Mexican Spanish", locale: "es-MX", want: true},
		{name: "French", locale: "fr", want: true},
		{name: "Serbian in Latin", locale: "sr-Latn", want: true},
		{name: "Simplified Chinese", locale: "zh-CN", want: false},
		{name: "Chinese", locale: "zh", want: false},
		{name: "Traditional Chinese", locale: "zh-TW", want: false},
		{name: "Russian", locale: "ru", want: false},
		{name: "Greek", locale: "el", want: false},
		{name: "not a locale", locale: "english!", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, CanTransliterate(tc.locale))
		})
	}
}

func TestFitBudget(t *testing.T) {
	t.Parallel()
	short := "Hola, García. Responde ALTO para cancelar."
	long := "Hola, García. Su pago de $412.50 vence el 1 de junio de 2026. Pague aquí: https://nudg.es/p/AbCdEfGhIjKlMnOpQrStUv Responde ALTO para cancelar."
	tests := []struct {
		name    string
		text    string
		budget  int
		want    string
		changed bool
	}{
		{name: "within the budget as written: accents stay", text: short, budget: 1, want: short},
		{name: "over the budget as written: transliterated", text: long, budget: 2,
			want: "Hola, Garcia. Su pago de $412.50 vence el 1 de junio de 2026. Pague aqui: https://nudg.es/p/AbCdEfGhIjKlMnOpQrStUv Responde ALTO para cancelar.", changed: true},
		{name: "a large budget keeps the accents", text: long, budget: 3, want: long},
		{name: "nothing to transliterate", text: "王伟您好，回复TD退订", budget: 0, want: "王伟您好，回复TD退订"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changed := fitBudget(tc.text, tc.budget)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.changed, changed)
		})
	}
}
