package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/store"
)

// batchWatch is a voice store that records the size of every RecordOutcomes
// call and holds the first one until loads attempts have been loaded (every
// request has passed its checks and is on its way to the write).
type batchWatch struct {
	*store.DB
	loads   int
	mu      sync.Mutex
	loaded  int
	arrived chan struct{}
	sizes   []int
}

func (w *batchWatch) GetAttempt(ctx context.Context, id string) (nudge.Attempt, error) {
	w.mu.Lock()
	if w.loaded++; w.loaded == w.loads {
		close(w.arrived)
	}
	w.mu.Unlock()
	return w.DB.GetAttempt(ctx, id)
}

func (w *batchWatch) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	w.mu.Lock()
	first := len(w.sizes) == 0
	w.sizes = append(w.sizes, len(outcomes))
	w.mu.Unlock()
	if first {
		select {
		case <-w.arrived:
		case <-time.After(10 * time.Second):
		}
	}
	return w.DB.RecordOutcomes(ctx, outcomes)
}

// TestVoiceStatusCallbacksShareTransactions: the status callbacks of many
// calls arriving at once (each one twice, as Twilio may repeat it) are
// written in a few shared transactions, and each call gets its own status,
// duration, SID and a single callback event.
func TestVoiceStatusCallbacksShareTransactions(t *testing.T) {
	t.Parallel()
	const calls = 16
	b := setupVoice(t, voicePublic, "us", false)
	watch := &batchWatch{DB: b.db, loads: 2 * calls, arrived: make(chan struct{})}
	b.hook.Store = watch
	acct := voiceAccount("A-1", "en", "Ana Garcia", voicePhone)
	statuses := []string{"completed", "busy", "no-answer"}
	type call struct {
		att    nudge.Attempt
		sid    string
		status string
		url    string
	}
	var all []call
	for i := range calls {
		att, token := b.addCall(t, acct, fmt.Sprintf("late-%d", i))
		all = append(all, call{att: att, sid: fmt.Sprintf("CA%032d", i), status: statuses[i%len(statuses)],
			url: twilio.VoiceStatusURL(voicePublic, token)})
	}

	codes := make(chan int, 2*calls)
	var wg sync.WaitGroup
	for i, c := range slices.Concat(all, all) {
		wg.Go(func() {
			form := callForm("CallSid", c.sid, "CallStatus", c.status)
			if c.status == "completed" {
				form.Set("CallDuration", fmt.Sprint(i%calls+1))
			}
			codes <- b.post(t, c.url, form, true).Code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusNoContent, code)
	}

	watch.mu.Lock()
	sizes := slices.Clone(watch.sizes)
	watch.mu.Unlock()
	t.Logf("outcomes per transaction: %v", sizes)
	written := 0
	for _, n := range sizes {
		written += n
	}
	require.Equal(t, 2*calls, written, "every callback written once")
	require.Less(t, len(sizes), 2*calls, "callbacks share transactions: %v", sizes)
	require.Greater(t, slices.Max(sizes), 1, "callbacks share transactions: %v", sizes)

	ctx := context.Background()
	events, err := b.db.Events(ctx, acct.Lender, acct.ID)
	require.NoError(t, err)
	for i, c := range all {
		got, err := b.db.GetAttempt(ctx, c.att.ID)
		require.NoError(t, err)
		require.Equal(t, twilio.CallStatusFromTwilio(c.status), got.Status, c.att.ID)
		require.Equal(t, c.sid, got.ProviderID, c.att.ID)
		if c.status == "completed" {
			require.Equal(t, i+1, got.CallSeconds, c.att.ID)
		} else {
			require.Zero(t, got.CallSeconds, c.att.ID)
		}
		var callbacks []string
		for _, e := range events {
			if e.AttemptID == c.att.ID && e.Kind == nudge.EventCallback {
				callbacks = append(callbacks, e.Action)
			}
		}
		require.Equal(t, []string{string(got.Status)}, callbacks, "one callback event for %s, though Twilio posted it twice", c.att.ID)
	}
}
