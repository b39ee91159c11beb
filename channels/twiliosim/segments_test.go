package twiliosim_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/twiliosim"
)

func TestSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want int
	}{
		{name: "short gsm", body: "Your payment is due.", want: 1},
		{name: "160 gsm", body: strings.Repeat("a", 160), want: 1},
		{name: "161 gsm", body: strings.Repeat("a", 161), want: 2},
		{name: "extended chars count twice", body: strings.Repeat("€", 80), want: 1},
		{name: "extended chars over the limit", body: strings.Repeat("€", 81), want: 2},
		{name: "spanish stays gsm", body: "Pagaré el 5 de diciembre", want: 1},
		{name: "70 ucs2", body: strings.Repeat("还", 70), want: 1},
		{name: "71 ucs2", body: strings.Repeat("还", 71), want: 2},
		{name: "emoji is two units", body: strings.Repeat("👍", 35), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twiliosim.Segments(tt.body))
		})
	}
}

func TestDetectLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{name: "chinese", body: "您的还款将于周五到期", want: "zh"},
		{name: "spanish accents", body: "Su préstamo vence", want: "es"},
		{name: "spanish words", body: "Hola, su pago vence el viernes", want: "es"},
		{name: "english", body: "Your payment is due Friday", want: "en"},
		{name: "unknown", body: "ACME 200 12/05", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, twiliosim.DetectLanguage(tt.body))
		})
	}
}
