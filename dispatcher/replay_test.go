package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// replayStore answers ReplayReminder from a table of outcomes per id; the
// other ControlStore methods are not used by Replay.
type replayStore struct {
	ControlStore
	mu      sync.Mutex
	errs    map[string]error
	replays []string
}

func (s *replayStore) ReplayReminder(_ context.Context, lender, id, actor, why string, now time.Time) (nudge.Reminder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err, ok := s.errs[id]; ok {
		return nudge.Reminder{}, err
	}
	s.replays = append(s.replays, lender+"/"+id+"/"+actor+"/"+why)
	r := testReminder("A-1", id)
	r.ID, r.NextAt = id, now
	return r, nil
}

// replayQueue records what is enqueued, failing for the ids in fail.
type replayQueue struct {
	ControlQueue
	fail     map[string]bool
	enqueued []string
	at       []time.Time
}

func (q *replayQueue) Enqueue(_ context.Context, r nudge.Reminder, at time.Time) error {
	if q.fail[r.ID] {
		return errors.New("redis is down")
	}
	q.enqueued, q.at = append(q.enqueued, r.ID), append(q.at, at)
	return nil
}

func TestControlReplay(t *testing.T) {
	t.Parallel()
	setup := func() (*Control, *replayStore, *replayQueue) {
		s := &replayStore{errs: map[string]error{
			"gone":    fmt.Errorf("reminder gone: %w", nudge.ErrNotFound),
			"queued":  fmt.Errorf("reminder queued: %w", nudge.ErrNotFailed),
			"reached": fmt.Errorf("attempt x: %w", nudge.ErrReachedProvider),
			"broken":  errors.New("database is down"),
		}}
		q := &replayQueue{fail: map[string]bool{"late": true}}
		return &Control{Store: s, Queue: q, Clock: nudge.NewFixedClock(noon)}, s, q
	}

	t.Run("outcomes per id", func(t *testing.T) {
		t.Parallel()
		c, s, q := setup()
		res, err := c.Replay(context.Background(), "acme", []string{"r1", "gone", " r1 ", "queued", "reached", "late", ""}, "key_1", "sender fixed")
		require.NoError(t, err)
		got := map[string]ReplayOutcome{}
		for _, r := range res {
			got[r.ID] = r.Outcome
		}
		require.Equal(t, map[string]ReplayOutcome{"r1": Replayed, "gone": ReplayNotFound, "queued": ReplayNotFailed,
			"reached": ReplayReachedProvider, "late": Replayed}, got)
		require.Len(t, res, 5, "each id once, blanks skipped")
		require.Equal(t, []string{"acme/r1/key_1/sender fixed", "acme/late/key_1/sender fixed"}, s.replays)
		require.Equal(t, []string{"r1"}, q.enqueued, "task id = reminder id, enqueued at its next run")
		require.Equal(t, []time.Time{noon}, q.at)
		require.Contains(t, res[4].Note, "catch-up", "a replay that could not be enqueued says who will")
		require.Equal(t, nudge.ReminderQueued, res[0].Reminder.Status)
	})
	t.Run("bad requests", func(t *testing.T) {
		t.Parallel()
		c, s, _ := setup()
		_, err := c.Replay(context.Background(), "acme", []string{"r1"}, "key_1", "  ")
		require.ErrorIs(t, err, ErrReasonRequired)
		_, err = c.Replay(context.Background(), "acme", []string{" "}, "key_1", "fixed")
		require.ErrorIs(t, err, ErrBadReplay)
		ids := make([]string, MaxReplay+1)
		for i := range ids {
			ids[i] = "r" + strconv.Itoa(i)
		}
		_, err = c.Replay(context.Background(), "acme", ids, "key_1", "fixed")
		require.ErrorIs(t, err, ErrBadReplay)
		require.ErrorContains(t, err, "at most 500")
		require.Empty(t, s.replays)
	})
	t.Run("store failure stops", func(t *testing.T) {
		t.Parallel()
		c, _, _ := setup()
		res, err := c.Replay(context.Background(), "acme", []string{"r1", "broken", "r2"}, "key_1", "fixed")
		require.ErrorContains(t, err, "database is down")
		require.Len(t, res, 1, "the results of the ids done before it")
	})
}
