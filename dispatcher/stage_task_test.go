package dispatcher

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// fakeWorkItems records the work items the pipeline creates and, like the
// store, ends the reminder sent with the first one.
type fakeWorkItems struct {
	mu     sync.Mutex
	store  *memStore
	items  map[string]nudge.WorkItem
	events []nudge.Event
	err    error
}

func (f *fakeWorkItems) CreateWorkItem(ctx context.Context, w nudge.WorkItem, e nudge.Event) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false, f.err
	}
	if _, ok := f.items[w.ReminderID]; ok {
		return false, nil
	}
	f.items[w.ReminderID] = w
	f.events = append(f.events, e)
	return true, f.store.SetReminderStatus(ctx, w.ReminderID, nudge.ReminderSent, "", w.CreatedAt, w.CreatedAt)
}

func taskSetup(t *testing.T) (*bundle, *fakeWorkItems) {
	t.Helper()
	wi := &fakeWorkItems{items: map[string]nudge.WorkItem{}}
	b := setup(t, func(c *PipelineConfig) {
		c.WorkItems = wi
		c.Instructions = func(_ context.Context, r nudge.Reminder) (string, error) { return "Visit for step " + r.Key.Step, nil }
	})
	wi.store = b.store
	return b, wi
}

func taskReminder(kind string) func(*nudge.Reminder) {
	return func(r *nudge.Reminder) { r.Channel, r.Fallback, r.Template = nudge.Task, "", kind }
}

func TestTaskStepCreatesWorkItem(t *testing.T) {
	t.Parallel()
	b, wi := taskSetup(t)
	r := b.add("A-1", func(a *nudge.Account) {
		a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Voice, Address: smsAddr, Consent: true})
	}, taskReminder(nudge.WorkFieldVisit))
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Equal(t, nudge.ReminderSent, b.store.reminder(r.ID).Status)
	w, ok := wi.items[r.ID]
	require.True(t, ok)
	require.Equal(t, nudge.WorkFieldVisit, w.Kind)
	require.Equal(t, "Visit for step day1", w.Instructions)
	require.Equal(t, nudge.Voice, w.Channel, "the item is about the borrower's phone")
	require.Equal(t, smsAddr, w.Address)
	require.Len(t, wi.events, 1)
	require.Equal(t, nudge.EventWorkItem, wi.events[0].Kind)
	require.Equal(t, "created", wi.events[0].Action)
	require.Empty(t, b.sms.Sent(), "a task step sends nothing")

	// The task again (Asynq delivers at least once) creates nothing more.
	require.NoError(t, b.pipe.Process(context.Background(), r.ID))
	require.Len(t, wi.events, 1)
}

func TestTaskStepStopped(t *testing.T) {
	t.Parallel()
	t.Run("cease-communication", func(t *testing.T) {
		t.Parallel()
		b, wi := taskSetup(t)
		r := b.add("A-1", func(a *nudge.Account) { a.Holds = []nudge.Hold{{Kind: nudge.HoldCeaseCommunication}} }, taskReminder(nudge.WorkLetter))
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		got := b.store.reminder(r.ID)
		require.Equal(t, nudge.ReminderSuppressed, got.Status)
		require.Equal(t, nudge.ReasonHold, got.Reason)
		require.Empty(t, wi.items)
	})
	t.Run("call list without a number", func(t *testing.T) {
		t.Parallel()
		b, wi := taskSetup(t)
		r := b.add("A-1", nil, taskReminder(nudge.WorkCallList))
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		require.Equal(t, nudge.ReasonNoContact, b.store.reminder(r.ID).Reason)
		require.Empty(t, wi.items)
	})
	t.Run("cadence paused", func(t *testing.T) {
		t.Parallel()
		b, wi := taskSetup(t)
		r := b.add("A-1", nil, taskReminder(nudge.WorkFieldVisit))
		_, err := b.store.SetPause(context.Background(), nudge.Pause{Lender: testLender, Scope: nudge.PauseCadence, Target: "standard", Reason: "review"})
		require.NoError(t, err)
		err = b.pipe.Process(context.Background(), r.ID)
		var d *DelayError
		require.ErrorAs(t, err, &d)
		require.Equal(t, nudge.ReasonPaused, d.Reason)
		require.Equal(t, nudge.ReminderDeferred, b.store.reminder(r.ID).Status)
		require.Empty(t, wi.items)
	})
	t.Run("no work item store", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.add("A-1", nil, taskReminder(nudge.WorkFieldVisit))
		require.NoError(t, b.pipe.Process(context.Background(), r.ID))
		got := b.store.reminder(r.ID)
		require.Equal(t, nudge.ReminderFailed, got.Status)
		require.Equal(t, nudge.ReasonProviderFailed, got.Reason)
	})
	t.Run("store error is retried", func(t *testing.T) {
		t.Parallel()
		b, wi := taskSetup(t)
		wi.err = errors.New("database down")
		r := b.add("A-1", nil, taskReminder(nudge.WorkFieldVisit))
		require.ErrorContains(t, b.pipe.Process(context.Background(), r.ID), "database down")
		require.False(t, b.store.reminder(r.ID).Status.Terminal(), "the reminder stays for the retry")
	})
}
