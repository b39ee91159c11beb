package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		segments int
		enc      Encoding
		length   int
	}{
		{name: "empty", body: "", segments: 0, enc: GSM7, length: 0},
		{name: "short ASCII", body: "Reply STOP to opt out", segments: 1, enc: GSM7, length: 21},
		{name: "160 GSM-7 characters fit one segment", body: strings.Repeat("a", 160), segments: 1, enc: GSM7, length: 160},
		{name: "161 GSM-7 characters need two", body: strings.Repeat("a", 161), segments: 2, enc: GSM7, length: 161},
		{name: "306 GSM-7 characters fill two parts", body: strings.Repeat("a", 306), segments: 2, enc: GSM7, length: 306},
		{name: "307 GSM-7 characters need three", body: strings.Repeat("a", 307), segments: 3, enc: GSM7, length: 307},
		{name: "GSM-7 accents of the basic table stay GSM-7", body: "Si, ñandu? No: año, é è ù ì ò à Ä Ö Ñ Ü ¿¡ £ ¥ §", segments: 1, enc: GSM7, length: 48},
		{name: "extended characters count twice", body: "^{}\\[]~|€", segments: 1, enc: GSM7, length: 18},
		{name: "159 plus one extended character is 161", body: strings.Repeat("a", 159) + "€", segments: 2, enc: GSM7, length: 161},
		{name: "158 plus one extended character is exactly 160", body: strings.Repeat("a", 158) + "[", segments: 1, enc: GSM7, length: 160},
		{name: "an extended character never straddles two parts", body: strings.Repeat("a", 152) + "{" + strings.Repeat("a", 10), segments: 2, enc: GSM7, length: 164},
		{name: "an extended character at a part boundary moves to the next part", body: strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), segments: 3, enc: GSM7, length: 306},
		{name: "one non-GSM character switches to UCS-2", body: "Pago vencido: días", segments: 1, enc: UCS2, length: 18},
		{name: "70 UCS-2 units fit one segment", body: strings.Repeat("á", 70), segments: 1, enc: UCS2, length: 70},
		{name: "71 UCS-2 units need two", body: strings.Repeat("á", 71), segments: 2, enc: UCS2, length: 71},
		{name: "134 UCS-2 units fill two parts", body: strings.Repeat("á", 134), segments: 2, enc: UCS2, length: 134},
		{name: "135 UCS-2 units need three", body: strings.Repeat("á", 135), segments: 3, enc: UCS2, length: 135},
		{name: "Chinese is UCS-2", body: "您的还款将于2026年6月1日到期。回复TD退订", segments: 1, enc: UCS2, length: 24},
		{name: "emoji count as two UTF-16 units", body: "Thanks 🙏", segments: 1, enc: UCS2, length: 9},
		{name: "35 emoji fit one segment", body: strings.Repeat("🙂", 35), segments: 1, enc: UCS2, length: 70},
		{name: "a surrogate pair never straddles two parts", body: "á" + strings.Repeat("a", 65) + "🙂" + strings.Repeat("a", 66), segments: 3, enc: UCS2, length: 134},
		{name: "extended GSM characters in UCS-2 count once", body: "€ 您好", segments: 1, enc: UCS2, length: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			segments, enc, length := CountSegments(tc.body)
			require.Equal(t, tc.segments, segments, "segments")
			require.Equal(t, tc.enc, enc, "encoding")
			require.Equal(t, tc.length, length, "length")
		})
	}
}

func TestIsGSM7(t *testing.T) {
	t.Parallel()
	require.True(t, IsGSM7("Hello @ $5 & more\n"))
	require.True(t, IsGSM7("{}[]~|^€\\"))
	require.False(t, IsGSM7("curly ’quote"))
	require.False(t, IsGSM7("回复TD退订"))
}
