package borrower

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnsubscribeTextsComplete(t *testing.T) {
	t.Parallel()
	require.Len(t, unsubTexts, len(unsubLocales))
	for _, loc := range unsubLocales {
		text, ok := unsubTexts[loc]
		require.True(t, ok, "locale %s has no texts", loc)
		v := reflect.ValueOf(text)
		for i := range v.NumField() {
			require.NotEmpty(t, strings.TrimSpace(v.Field(i).String()), "%s: %s is empty", loc, v.Type().Field(i).Name)
		}
		for _, f := range []string{text.Question, text.Done} {
			require.Equal(t, 2, strings.Count(f, "%s"), "%s: %q takes the lender and the address", loc, f)
		}
	}
}

func TestMatchUnsubLocale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefs  []string
		accept string
		want   string
	}{
		{name: "first preference", prefs: []string{"zh-CN", "es"}, want: "zh-CN"},
		{name: "empty and unknown skipped", prefs: []string{"", "xx-invalid-tag-", "es-US"}, want: "es"},
		{name: "unsupported language then lender", prefs: []string{"fr", "es"}, want: "es"},
		{name: "simplified chinese variants", prefs: []string{"zh-Hans"}, want: "zh-CN"},
		{name: "accept-language", accept: "fr-FR,es;q=0.8", want: "es"},
		{name: "fallback", prefs: []string{"de"}, accept: "ja", want: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, matchUnsubLocale(tt.prefs, tt.accept))
		})
	}
}
