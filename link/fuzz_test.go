package link_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// fuzzKey is the secret of the fuzz targets' signer.
const fuzzKey = "fuzz-secret-0123456789abcdef-0123456789"

// FuzzVerify checks that Verify never panics on any string and accepts a
// string only when it is exactly a token Sign produced.
func FuzzVerify(f *testing.F) {
	s, err := link.NewSigner([]byte(fuzzKey))
	require.NoError(f, err)
	good := s.Sign(link.Claims{Purpose: link.Unsubscribe, Lender: "demo", AccountID: "L-1", Channel: nudge.Email, Address: "ana@example.com"})
	for _, seed := range []string{good, good + "x", good[:len(good)-1], good + "\n", "", ".", "a.b", "e30.e30", "%%.%%",
		good[:len(good)-1] + "A", good[:len(good)-1] + "B", "eyJwIjoidSJ9." + good[len(good)-43:]} {
		f.Add(seed, uint8(0))
	}
	purposes := []link.Purpose{link.Unsubscribe, link.SelfService, link.Voice, ""}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, token string, p uint8) {
		want := purposes[int(p)%len(purposes)]
		c, err := s.Verify(token, want, now)
		if err != nil {
			return
		}
		require.Equal(t, want, c.Purpose)
		require.Equal(t, s.Sign(c), token, "Verify accepted a token Sign never produced")
	})
}

// FuzzSignVerify signs arbitrary claims, then changes one byte of the token:
// the unchanged token verifies to the same claims, and the changed one never
// verifies.
func FuzzSignVerify(f *testing.F) {
	s, err := link.NewSigner([]byte(fuzzKey))
	require.NoError(f, err)
	f.Add("demo", "L-1", "ana@example.com", "", int64(0), uint16(3), uint8(1))
	f.Add("acme", "A-9", "+12125550101", "att-1", int64(1795791600), uint16(60), uint8(0xff))
	f.Add("", "", "", "", int64(-1), uint16(0), uint8(0))
	f.Add("ü\x00\"", "\xff", "a.b", "\n", int64(1<<62), uint16(65535), uint8('.'))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, lender, accountID, address, attempt string, expires int64, pos uint16, b uint8) {
		c := link.Claims{Purpose: link.Voice, Lender: lender, AccountID: accountID, Channel: nudge.SMS,
			Address: address, Attempt: attempt, Expires: expires}
		tok := s.Sign(c)
		got, err := s.Verify(tok, link.Voice, now)
		if err != nil {
			require.ErrorIs(t, err, link.ErrExpired, "a fresh token fails only by expiring")
		}
		if utf8.ValidString(lender + accountID + address + attempt) {
			// (JSON replaces invalid UTF-8, so only valid text comes back as is.)
			require.Equal(t, c, got, "the claims come back as signed")
		}

		mutated := []byte(tok)
		i := int(pos) % len(mutated)
		if mutated[i] == b {
			return
		}
		mutated[i] = b
		_, err = s.Verify(string(mutated), link.Voice, now)
		require.Error(t, err, "a token with byte %d changed to %q verified", i, b)
		require.NotErrorIs(t, err, link.ErrExpired, "a changed token is refused before its expiry is read")
	})
}
