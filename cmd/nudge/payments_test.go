package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/payment"
)

func TestPaymentsConfigValidate(t *testing.T) {
	t.Parallel()
	good := PaymentsConfig{URL: "https://pay.acme.example/pay?ref={account}&amount={amount}",
		Plans: PlansConfig{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60}}
	tests := []struct {
		name    string
		change  func(p *PaymentsConfig)
		wantErr []string
	}{
		{name: "complete"},
		{name: "none", change: func(p *PaymentsConfig) { *p = PaymentsConfig{} }},
		{name: "http", change: func(p *PaymentsConfig) { p.URL = "http://pay.acme.example/pay?ref={account}" },
			wantErr: []string{`lenders[2].payments.url: "http://pay.acme.example/pay?ref={account}" must start with https://`}},
		{name: "unknown placeholder", change: func(p *PaymentsConfig) { p.URL = "https://pay.acme.example/pay?ref={loan}" },
			wantErr: []string{`lenders[2].payments.url: "https://pay.acme.example/pay?ref={loan}" names an unknown placeholder {loan}`}},
		{name: "plan rules", change: func(p *PaymentsConfig) { p.Plans.MaxInstalments, p.Plans.MinInstalment = 1, "50,00" },
			wantErr: []string{"lenders[2].payments.plans.max_instalments: 1: want 2 to 24",
				`lenders[2].payments.plans.min_instalment: "50,00" is not a decimal amount`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := good
			if tc.change != nil {
				tc.change(&p)
			}
			err := p.validate(2)
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			for _, w := range tc.wantErr {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestLoadConfigPayments reads a lender's payment settings from YAML; a
// misspelt key is an error naming it.
func TestLoadConfigPayments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`lenders:
  - id: acme
    payments:
      url: "https://pay.acme.example/pay?ref={account}&amount={amount}"
      plans: {max_instalments: 4, min_instalment: "50.00", interval_days: 14, max_days: 60}
`), 0o600))
	cfg, err := LoadConfig(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, "https://pay.acme.example/pay?ref={account}&amount={amount}", cfg.Lenders[0].Payments.URL)
	require.Equal(t, 4, cfg.Lenders[0].Payments.Plans.Rules().MaxInstalments)

	require.NoError(t, os.WriteFile(path, []byte(`lenders:
  - id: acme
    payments:
      plans: {max_instalment: 4}
`), 0o600))
	_, err = LoadConfig(path, func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "max_instalment")
}

// TestPaymentsSecretCommand makes a lender's webhook secret, shown once and
// stored sealed, which signs what Verify accepts; --remove removes it.
func TestPaymentsSecretCommand(t *testing.T) {
	t.Parallel()
	a, dbURL := cliSetup(t)
	cfg, err := os.ReadFile(a.configPath)
	require.NoError(t, err)
	key := strings.Repeat("s", 40)
	require.NoError(t, os.WriteFile(a.configPath, append(cfg, []byte("secret: "+key+"\n")...), 0o600))

	out, _, err := runCmd(t, func() (*cobra.Command, error) { return a.paymentsCmd(), nil }, "secret", "--lender", "acme")
	require.NoError(t, err)
	secret := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	require.True(t, strings.HasPrefix(secret, payment.SecretPrefix), out)

	db := openTestDB(t, dbURL)
	sealed, err := db.PaymentWebhookSecret(context.Background(), "acme")
	require.NoError(t, err)
	require.NotContains(t, sealed, strings.TrimPrefix(secret, payment.SecretPrefix), "stored sealed")
	sealer, err := payment.NewSealer([]byte(key))
	require.NoError(t, err)
	opened, err := sealer.Open("acme", sealed)
	require.NoError(t, err)
	require.Equal(t, secret, opened)

	_, _, err = runCmd(t, func() (*cobra.Command, error) { return a.paymentsCmd(), nil }, "secret", "--lender", "nobody")
	require.ErrorContains(t, err, `--lender "nobody": no such lender`)
	_, _, err = runCmd(t, func() (*cobra.Command, error) { return a.paymentsCmd(), nil }, "secret", "--lender", "acme", "--remove")
	require.NoError(t, err)
	sealed, err = db.PaymentWebhookSecret(context.Background(), "acme")
	require.NoError(t, err)
	require.Empty(t, sealed)
}
