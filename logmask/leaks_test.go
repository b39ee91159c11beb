package logmask_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/logmask"
)

func TestLeaks(t *testing.T) {
	t.Parallel()
	const phone, email, name = "+14155550149", "ana.diaz@example.com", "Ana Diaz"
	claims, err := json.Marshal(map[string]string{"l": "acme", "a": "L-100021", "c": "sms", "d": phone})
	require.NoError(t, err)
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "plain", text: `sent to +14155550149`, want: []string{phone}},
		{name: "formatted", text: `call (415) 555-0149 now`, want: []string{phone}},
		{name: "spaced", text: `call +1 415 555 0149`, want: []string{phone}},
		{name: "digits only", text: `to=14155550149`, want: []string{phone}},
		{name: "url-escaped", text: "/x?to=" + url.QueryEscape(phone) + "&e=" + url.QueryEscape(email), want: []string{phone, email}},
		{name: "json-escaped", text: `{"msg":"\u0041na Diaz \u003cana.diaz\u0040example.com\u003e"}`, want: []string{email, name}},
		{name: "email in another case", text: `ANA.DIAZ@EXAMPLE.COM`, want: []string{email}},
		{name: "base64 url claims", text: "/p/" + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln", want: []string{phone}},
		{name: "base64 std, shifted", text: "x" + base64.StdEncoding.EncodeToString([]byte("ab"+email)), want: []string{email}},
		{name: "masked", text: `to +1*********49 a***@example.com`},
		{name: "other numbers", text: `attempts=14 at 2026-06-01T15:00:00Z amount 412.50 id 4155550`},
		{name: "opaque token", text: `/p/Zk3JqLm2Qp9xTt0aBcDeFg`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ElementsMatch(t, tt.want, logmask.Leaks(tt.text, phone, email, name))
		})
	}
}
