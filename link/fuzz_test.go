package link_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// FuzzResolve checks that Resolve never panics on any string and finds a
// link only for a token the service issued, exactly as issued.
func FuzzResolve(f *testing.F) {
	store := link.NewMemoryStore()
	svc, err := link.New([]byte(testSecret), store, nudge.NewFixedClock(t0))
	require.NoError(f, err)
	issued, err := svc.Issue(context.Background(), sms, time.Hour)
	require.NoError(f, err)
	good := issued.Token
	for _, seed := range []string{good, good + "x", good[:len(good)-1], good + "\n", "", ".", "a.b", "e30.e30", "%%.%%",
		good[:len(good)-1] + "A", "../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(seed, uint8(0))
	}
	purposes := []link.Purpose{link.Unsubscribe, link.SelfService, link.Voice, ""}
	f.Fuzz(func(t *testing.T, token string, p uint8) {
		want := purposes[int(p)%len(purposes)]
		l, err := svc.Resolve(context.Background(), token, want)
		if err != nil {
			return
		}
		require.Equal(t, good, token, "Resolve accepted a token never issued")
		require.Equal(t, issued, l)
	})
}

// FuzzVerifyForm signs a binding and changes one byte of the token: the
// unchanged token verifies, the changed one never does.
func FuzzVerifyForm(f *testing.F) {
	svc, err := link.New([]byte(testSecret), link.NewMemoryStore(), nil)
	require.NoError(f, err)
	f.Add("page\x00promise\x00nonce", uint16(3), uint8(1))
	f.Add("", uint16(0), uint8('.'))
	f.Add("ü\xff", uint16(60), uint8(0xff))
	f.Fuzz(func(t *testing.T, binding string, pos uint16, b uint8) {
		tok := svc.SignForm(binding, t0.Add(time.Hour))
		require.True(t, svc.VerifyForm(tok, binding, t0))
		mutated := []byte(tok)
		i := int(pos) % len(mutated)
		if mutated[i] == b {
			return
		}
		mutated[i] = b
		require.False(t, svc.VerifyForm(string(mutated), binding, t0), "a token with byte %d changed to %q verified", i, b)
	})
}
