package twiliosim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// startDelayed starts a simulator whose create requests are held for delay.
func startDelayed(t *testing.T, delay time.Duration) (*twiliosim.Sim, *twilio.SMS) {
	t.Helper()
	sim := twiliosim.New(twiliosim.Config{AccountSID: sid, AuthToken: token, Speed: 1e5, CreateDelay: delay,
		Mix: []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	sms, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, From: from,
		PublicURL: "http://127.0.0.1:1", BaseURL: sim.URL()})
	require.NoError(t, err)
	return sim, sms
}

func TestCreateDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// timeout bounds the client's call; zero waits for the answer.
		timeout time.Duration
		wantErr bool
	}{
		{name: "answer comes after the delay", timeout: 0},
		{name: "client gives up while the request is held", timeout: 50 * time.Millisecond, wantErr: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const delay = 400 * time.Millisecond
			sim, sms := startDelayed(t, delay)
			to := "+1415555017" + string(rune('0'+i))
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			began := time.Now()
			res, err := sms.Send(ctx, &nudge.Message{Channel: nudge.SMS, To: to, Text: "Your payment is due."})
			if tc.wantErr {
				require.Error(t, err)
				require.Less(t, time.Since(began), delay, "the client's own timeout ends its wait")
				// The request reached the provider before the client gave up.
				require.Equal(t, 1, sim.CreateCount(to))
				require.Eventually(t, func() bool { return len(sim.Messages()) == 1 }, 5*time.Second, 10*time.Millisecond,
					"a held request is still processed after its client went away")
				return
			}
			require.NoError(t, err)
			require.GreaterOrEqual(t, time.Since(began), delay)
			require.NotEmpty(t, res.ProviderID)
			require.Equal(t, 1, sim.CreateCount(to))
			msgs := sim.Messages()
			require.Len(t, msgs, 1)
			require.Equal(t, res.ProviderID, msgs[0].SID)
		})
	}
}

func TestCreateDelayCutShortByClose(t *testing.T) {
	t.Parallel()
	sim := twiliosim.New(twiliosim.Config{AccountSID: sid, AuthToken: token, Speed: 1e5, CreateDelay: time.Hour})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	sms, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, From: from,
		PublicURL: "http://127.0.0.1:1", BaseURL: sim.URL()})
	require.NoError(t, err)
	const to = "+14155550180"
	errc := make(chan error, 1)
	go func() {
		_, err := sms.Send(context.Background(), &nudge.Message{Channel: nudge.SMS, To: to, Text: "Your payment is due."})
		errc <- err
	}()
	require.Eventually(t, func() bool { return sim.CreateCount(to) == 1 }, 5*time.Second, 5*time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- sim.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a held create request")
	}
	select {
	case err := <-errc:
		pe, ok := nudge.AsProviderError(err)
		require.True(t, ok, "want a provider error, got %v", err)
		require.True(t, pe.Retry, "a 503 is transient: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal(errors.New("the held request was never answered"))
	}
	require.Empty(t, sim.Messages(), "a request cut short by Close creates nothing")
}
