package payment_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/payment"
)

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := payment.NewSealer([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	secret, err := payment.NewSecret()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, payment.SecretPrefix))
	other, err := payment.NewSecret()
	require.NoError(t, err)
	require.NotEqual(t, secret, other, "secrets are random")

	sealed, err := s.Seal("acme", secret)
	require.NoError(t, err)
	require.NotContains(t, sealed, strings.TrimPrefix(secret, payment.SecretPrefix), "the store never sees the secret")
	got, err := s.Open("acme", sealed)
	require.NoError(t, err)
	require.Equal(t, secret, got)

	_, err = s.Open("beta", sealed)
	require.ErrorIs(t, err, payment.ErrSealed, "sealed for another lender")
	s2, err := payment.NewSealer([]byte(strings.Repeat("j", 32)))
	require.NoError(t, err)
	_, err = s2.Open("acme", sealed)
	require.ErrorIs(t, err, payment.ErrSealed, "another deployment secret")
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	_, err = s.Open("acme", tampered)
	require.ErrorIs(t, err, payment.ErrSealed)
	_, err = s.Open("acme", "")
	require.ErrorIs(t, err, payment.ErrSealed)

	_, err = payment.NewSealer([]byte("short"))
	require.Error(t, err)
}
