package payment_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/payment"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		err  string
	}{
		{name: "query placeholders", in: "https://pay.acme.example/pay?ref={account}&amount={amount}&cur={currency}"},
		{name: "path placeholder", in: "https://pay.acme.example/accounts/{account}/pay"},
		{name: "no placeholder", in: "https://pay.acme.example/"},
		{name: "http", in: "http://pay.acme.example/pay?ref={account}", err: "https"},
		{name: "javascript", in: "javascript:alert(1)//{account}", err: "https"},
		{name: "relative", in: "/pay?ref={account}", err: "https"},
		{name: "unknown placeholder", in: "https://pay.acme.example/pay?ref={acct}", err: "unknown placeholder {acct}"},
		{name: "double braces", in: "https://pay.acme.example/pay?ref={{account}}", err: "double braces"},
		{name: "unclosed", in: "https://pay.acme.example/pay?ref={account", err: "{ without its }"},
		{name: "stray close", in: "https://pay.acme.example/pay?ref=account}", err: "} without its {"},
		{name: "placeholder in host", in: "https://{account}.acme.example/pay", err: "host"},
		{name: "user info", in: "https://user:pw@pay.acme.example/pay", err: "user name"},
		{name: "space", in: "https://pay.acme.example/pay?ref= {account}", err: "spaces"},
		{name: "empty", in: "", err: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := payment.ParseURL(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.in, got.String())
		})
	}
}

// TestRenderEscapes shows that a value can add no parameter, path or
// fragment: everything but the unreserved characters is percent-encoded.
func TestRenderEscapes(t *testing.T) {
	t.Parallel()
	u := payment.MustParseURL("https://pay.acme.example/pay/{account}?ref={account}&amount={amount}&c={currency}")
	got := u.Render(payment.URLVars{Account: "L-1&admin=1/../#x y", Amount: "412.50", Currency: "USD"})
	require.Equal(t, "https://pay.acme.example/pay/L-1%26admin%3D1%2F..%2F%23x%20y?ref=L-1%26admin%3D1%2F..%2F%23x%20y&amount=412.50&c=USD", got)
	require.Empty(t, payment.URLTemplate{}.Render(payment.URLVars{Account: "x"}), "the zero template is no link")
	require.True(t, payment.URLTemplate{}.IsZero())
	require.Equal(t, "https://pay.acme.example/p?r=%E7%8E%8B", payment.MustParseURL("https://pay.acme.example/p?r={account}").Render(payment.URLVars{Account: "王"}))
}

func FuzzParseURL(f *testing.F) {
	f.Add("https://pay.acme.example/pay?ref={account}&amount={amount}")
	f.Add("https://{account}/")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := payment.ParseURL(s)
		if err != nil {
			return
		}
		out := u.Render(payment.URLVars{Account: "a/b?c#d", Amount: "1.00", Currency: "USD"})
		require.Contains(t, out, "https://")
	})
}
