package templates

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestFormatterMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		locale   string
		amount   string
		currency string
		want     string
	}{
		{name: "en dollars", locale: "en", amount: "412.50", currency: "USD", want: "$412.50"},
		{name: "en thousands", locale: "en", amount: "1412.5", currency: "USD", want: "$1,412.50"},
		{name: "es dollars", locale: "es", amount: "412.50", currency: "USD", want: "412,50\u00a0US$"},
		{name: "es-US dollars", locale: "es-US", amount: "412.50", currency: "USD", want: "$412.50"},
		{name: "zh-CN dollars", locale: "zh-CN", amount: "412.50", currency: "USD", want: "US$412.50"},
		{name: "zh-CN yuan", locale: "zh-CN", amount: "412.50", currency: "CNY", want: "¥412.50"},
		{name: "en yuan", locale: "en", amount: "412.5", currency: "cny", want: "CN¥412.50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := NewFormatter(tc.locale)
			require.NoError(t, err)
			got, err := f.Money(tc.amount, tc.currency)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFormatterMoneyErrors(t *testing.T) {
	t.Parallel()
	f, err := NewFormatter("en")
	require.NoError(t, err)
	for _, tc := range []struct{ name, amount, currency, want string }{
		{name: "empty amount", amount: "", currency: "USD", want: "amount is empty"},
		{name: "empty currency", amount: "1", currency: "", want: "currency is empty"},
		{name: "not a number", amount: "12,5", currency: "USD", want: "money"},
		{name: "unknown currency", amount: "1", currency: "XYZ", want: "money"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Money(tc.amount, tc.currency)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFormatterDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		locale string
		date   string
		want   string
	}{
		{name: "en", locale: "en", date: "2026-06-01", want: "June 1, 2026"},
		{name: "en-GB", locale: "en-GB", date: "2026-06-01", want: "1 June 2026"},
		{name: "es", locale: "es", date: "2026-06-01", want: "1 de junio de 2026"},
		{name: "es-MX", locale: "es-MX", date: "2026-12-24", want: "24 de diciembre de 2026"},
		{name: "zh-CN", locale: "zh-CN", date: "2026-06-01", want: "2026年6月1日"},
		{name: "zh", locale: "zh", date: "2026-11-30", want: "2026年11月30日"},
		{name: "language without date data", locale: "ar", date: "2026-06-01", want: "2026-06-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := NewFormatter(tc.locale)
			require.NoError(t, err)
			got, err := f.Date(nudge.MustDate(tc.date))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	f, err := NewFormatter("en")
	require.NoError(t, err)
	_, err = f.Date(nudge.Date{})
	require.ErrorContains(t, err, "date is empty")
}

func TestFormatterPhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		locale  string
		country string
		number  string
		phone   string
		spoken  string
	}{
		{name: "US number for an en reader", locale: "en", number: "+18005550100", phone: "(800) 555-0100", spoken: "8 0 0, 5 5 5, 0 1 0 0"},
		{name: "US number for an es reader in the US", locale: "es", country: "US", number: "+18005550100", phone: "(800) 555-0100", spoken: "8 0 0, 5 5 5, 0 1 0 0"},
		{name: "US number for an es reader in Spain", locale: "es", number: "+18005550100", phone: "+1 800-555-0100", spoken: "1, 8 0 0, 5 5 5, 0 1 0 0"},
		{name: "CN number for a zh-CN reader", locale: "zh-CN", number: "+8613800138000", phone: "138 0013 8000", spoken: "1 3 8, 0 0 1 3, 8 0 0 0"},
		{name: "unparseable number shown as given", locale: "en", number: "call us", phone: "call us"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := NewFormatter(tc.locale)
			require.NoError(t, err)
			if tc.country != "" {
				f = formatterFor(f.tag, tc.country)
			}
			got, err := f.Phone(tc.number)
			require.NoError(t, err)
			require.Equal(t, tc.phone, got)
			if tc.spoken != "" {
				spoken, err := f.SpokenDigits(tc.number)
				require.NoError(t, err)
				require.Equal(t, tc.spoken, spoken)
			}
		})
	}
}

func TestFormatterKeypadDate(t *testing.T) {
	t.Parallel()
	f, err := NewFormatter("en")
	require.NoError(t, err)
	got, err := f.KeypadDate(nudge.MustDate("2026-11-05"))
	require.NoError(t, err)
	require.Equal(t, "1 1, 0 5", got)
}

func TestLocaleMatch(t *testing.T) {
	t.Parallel()
	available := []string{"en", "es", "zh-CN"}
	tests := []struct {
		name   string
		langs  []string
		locale string
		format string
	}{
		{name: "exact", langs: []string{"es"}, locale: "es", format: "es"},
		{name: "regional Spanish", langs: []string{"es-MX"}, locale: "es", format: "es-MX"},
		{name: "US Spanish", langs: []string{"es-US", "en"}, locale: "es", format: "es-US"},
		{name: "zh", langs: []string{"zh"}, locale: "zh-CN", format: "zh-CN"},
		{name: "zh-Hans", langs: []string{"zh-Hans"}, locale: "zh-CN", format: "zh-CN"},
		{name: "zh-CN", langs: []string{"zh-CN"}, locale: "zh-CN", format: "zh-CN"},
		{name: "traditional Chinese reads simplified rather than English", langs: []string{"zh-TW", "en"}, locale: "zh-CN", format: "zh-CN"},
		{name: "unknown borrower language falls to the lender default", langs: []string{"fr", "es"}, locale: "es", format: "es"},
		{name: "unknown borrower and lender languages fall to en", langs: []string{"fr", "de"}, locale: "en", format: "en"},
		{name: "empty and invalid tags are skipped", langs: []string{"", "not a tag!", "zh"}, locale: "zh-CN", format: "zh-CN"},
		{name: "nothing asked", langs: nil, locale: "en", format: "en"},
		{name: "British English", langs: []string{"en-GB"}, locale: "en", format: "en-GB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			locale, format, ok := match(available, tc.langs)
			require.True(t, ok)
			require.Equal(t, tc.locale, locale)
			require.Equal(t, tc.format, format.String())
		})
	}
	_, _, ok := match([]string{"es"}, []string{"fr"})
	require.False(t, ok, "a template missing in en and every asked language has no locale")
}

func TestLocales(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"es-MX", "en"}, Locales("es-MX", "en"))
	require.Equal(t, []string{"zh-CN"}, Locales("", "zh-CN"))
	require.Empty(t, Locales("", ""))
}
