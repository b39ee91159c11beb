package account_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
)

const ana = `{"id": "L-1001", "lender": "demo", "portfolio": "auto",
 "borrower": {"name": "Ana García", "language": "es", "timezone": "America/New_York"},
 "address": {"country": "US", "region": "CA", "postal_code": "94103"},
 "contacts": [{"channel": "sms", "address": "+12125550123", "consent": true},
              {"channel": "voice", "address": "(212) 555-0123", "consent": true},
              {"channel": "email", "address": "Ana@Example.com", "workplace": false}],
 "currency": "USD", "amount_due": "412.50", "due_date": "2026-06-01",
 "status": "active", "holds": []}`

func TestParseNormalizes(t *testing.T) {
	t.Parallel()
	a, err := account.Parse([]byte(ana))
	require.NoError(t, err)
	require.Equal(t, "L-1001", a.ID)
	require.Equal(t, "+12125550123", a.Contacts[1].Address, "local number read with address.country")
	require.Equal(t, "ana@example.com", a.Contacts[2].Address)
	require.Equal(t, nudge.MustDate("2026-06-01"), a.DueDate)
	require.Equal(t, []string{"+12125550123"}, a.PhoneNumbers())
	require.Equal(t, "es", a.Borrower.Language)
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "bad phone",
			doc:  strings.Replace(ana, `"+12125550123", "consent"`, `"+1212", "consent"`, 1),
			want: []string{`contacts[0].address: "+1212" is not a valid phone number`},
		},
		{
			name: "local number without country",
			doc:  strings.Replace(ana, `"address": {"country": "US", "region": "CA", "postal_code": "94103"},`, ``, 1),
			want: []string{`contacts[1].address: "(212) 555-0123" is a local number: give it in E.164 (+…) or set address.country`},
		},
		{
			name: "several problems at once",
			doc:  `{"id": "", "lender": "demo", "borrower": {"name": "X", "timezone": "Mars/Base"}, "contacts": [{"channel": "fax", "address": "1"}], "currency": "usd1", "amount_due": "12.5.0", "due_date": "2026-06-01", "status": "late", "holds": ["vacation"]}`,
			want: []string{
				"id: is required",
				`borrower.timezone: "Mars/Base" is not an IANA time zone like America/New_York`,
				`contacts[0].channel: "fax" is not a channel (want sms, voice or email)`,
				`currency: "USD1" is not a three-letter ISO 4217 currency code`,
				`amount_due: "12.5.0" is not a decimal amount like "412.50"`,
				`status: "late" is not a status (want active, paid, closed or charged_off)`,
				`holds[0]: "vacation" is not a hold (want dispute, bankruptcy, cease_communication, deceased, attorney or hardship)`,
			},
		},
		{
			name: "unknown field",
			doc:  strings.Replace(ana, `"portfolio": "auto"`, `"portfolio": "auto", "color": "red"`, 1),
			want: []string{"color: unknown field"},
		},
		{
			name: "float amount",
			doc:  strings.Replace(ana, `"412.50"`, `412.5`, 1),
			want: []string{"amount_due: want string, got a JSON number"},
		},
		{
			name: "bad email and duplicate",
			doc:  strings.Replace(ana, `"Ana@Example.com"`, `"not-an-email"`, 1),
			want: []string{`contacts[2].address: "not-an-email" is not a valid email address`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := account.Parse([]byte(tt.doc))
			require.Error(t, err)
			var ps account.Problems
			require.ErrorAs(t, err, &ps)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseManyArrayAndNDJSON(t *testing.T) {
	t.Parallel()
	bad := strings.Replace(ana, `"L-1001"`, `"L-1002"`, 1)
	bad = strings.Replace(bad, `"412.50"`, `"abc"`, 1)
	for name, input := range map[string]string{
		"array":  "[" + ana + ",\n" + bad + "]",
		"ndjson": strings.ReplaceAll(ana, "\n", " ") + "\n" + strings.ReplaceAll(bad, "\n", " ") + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			accts, ps := account.ParseMany(strings.NewReader(input))
			require.Len(t, accts, 1)
			require.Len(t, ps, 1)
			require.Equal(t, 2, ps[0].Row)
			require.Equal(t, `row 2: amount_due: "abc" is not a decimal amount like "412.50"`, ps[0].String())
		})
	}
}
