package dispatcher

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func uniqueAccount(testing.TB) string {
	return fmt.Sprintf("acct-%d", time.Now().UnixNano())
}

func TestEnqueueTaskOptions(t *testing.T) {
	t.Parallel()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	r := testReminder(uniqueAccount(t), "day1")
	r.Channel = nudge.Voice
	at := time.Now().Add(time.Hour).Truncate(time.Second)

	require.NoError(t, enq.Enqueue(context.Background(), r, at))
	info, err := enq.Inspector().GetTaskInfo(QueueVoice+":"+testLender, r.ID)
	require.NoError(t, err)
	require.Equal(t, TypeReminderVoice, info.Type)
	require.Equal(t, asynq.TaskStateScheduled, info.State)
	require.Equal(t, DefaultMaxRetry, info.MaxRetry)
	require.Equal(t, DefaultTaskTimeout, info.Timeout)
	require.Equal(t, DefaultRetention, info.Retention)
	require.True(t, at.Equal(info.NextProcessAt), "process at %v, want %v", info.NextProcessAt, at)
	p, err := ParsePayload(info.Payload)
	require.NoError(t, err)
	require.Equal(t, r.ID, p.ReminderID)
}

func TestEnqueueConflictIsSuccess(t *testing.T) {
	t.Parallel()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	r := testReminder(uniqueAccount(t), "day1")
	first := time.Now().Add(time.Hour).Truncate(time.Second)
	require.NoError(t, enq.Enqueue(context.Background(), r, first))
	require.NoError(t, enq.Enqueue(context.Background(), r, first.Add(time.Hour)), "another replica got there first")
	info, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, r.ID)
	require.NoError(t, err)
	require.True(t, first.Equal(info.NextProcessAt), "the first task stays")
	pending, err := enq.Inspector().ListScheduledTasks(QueueSMS + ":" + testLender)
	require.NoError(t, err)
	n := 0
	for _, ti := range pending {
		if ti.ID == r.ID {
			n++
		}
	}
	require.Equal(t, 1, n)
}

func TestEnqueueReplacesArchivedTask(t *testing.T) {
	t.Parallel()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	r := testReminder(uniqueAccount(t), "day1")
	require.NoError(t, enq.Enqueue(context.Background(), r, time.Now().Add(time.Hour)))
	require.NoError(t, enq.Inspector().ArchiveTask(QueueSMS+":"+testLender, r.ID))

	require.NoError(t, enq.Enqueue(context.Background(), r, time.Now().Add(2*time.Hour)))
	info, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, r.ID)
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateScheduled, info.State)
}

func TestEnqueueRejectsUnknownChannel(t *testing.T) {
	t.Parallel()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	r := testReminder(uniqueAccount(t), "day1")
	r.Channel = "fax"
	require.ErrorContains(t, enq.Enqueue(context.Background(), r, time.Now()), `channel "fax"`)
}

func TestCancelAccountDeletesQueuedTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	store := newMemStore()
	now := time.Now().Truncate(time.Second)
	paid, other := uniqueAccount(t), uniqueAccount(t)+"-other"

	var ids []string
	for i, ch := range []nudge.ChannelKind{nudge.SMS, nudge.Email, nudge.Voice} {
		r := testReminder(paid, fmt.Sprintf("step%d", i))
		r.Channel = ch
		store.putReminder(r)
		ids = append(ids, r.ID)
		at := now.Add(time.Hour)
		if ch == nudge.Email {
			at = now.Add(-time.Second) // pending
		}
		require.NoError(t, enq.Enqueue(ctx, r, at))
	}
	// A reminder that is already final has no task and is left alone.
	done := testReminder(paid, "done")
	done.Status = nudge.ReminderSent
	store.putReminder(done)
	keep := testReminder(other, "day1")
	store.putReminder(keep)
	require.NoError(t, enq.Enqueue(ctx, keep, now.Add(time.Hour)))

	n, err := CancelAccount(ctx, store, enq, testLender, paid, nudge.ReasonCycleEnded, now)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for i, ch := range []nudge.ChannelKind{nudge.SMS, nudge.Email, nudge.Voice} {
		q, _ := QueueFor(ch, testLender)
		_, err := enq.Inspector().GetTaskInfo(q, ids[i])
		require.ErrorIs(t, err, asynq.ErrTaskNotFound, "task of %s", ch)
		require.Equal(t, nudge.ReminderCanceled, store.reminder(ids[i]).Status)
	}
	_, err = enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, keep.ID)
	require.NoError(t, err, "other accounts keep their tasks")
	require.Equal(t, nudge.ReminderSent, store.reminder(done.ID).Status)
	events := store.eventsOf(nudge.EventCanceled)
	require.Len(t, events, 3)
	require.Equal(t, nudge.ReasonCycleEnded, events[0].Reason)

	n, err = CancelAccount(ctx, store, enq, testLender, paid, nudge.ReasonCycleEnded, now)
	require.NoError(t, err)
	require.Zero(t, n, "cancelling twice is harmless")
}

func TestCancelIgnoresMissingTasks(t *testing.T) {
	t.Parallel()
	enq := NewEnqueuer(testRedis(t, false), EnqueuerConfig{})
	require.NoError(t, enq.Cancel(context.Background(), testLender, nudge.SMS, "rem_never_enqueued"))
	require.ErrorContains(t, enq.Cancel(context.Background(), testLender, "fax", "x"), "fax")
}

func TestCancelAfterRedisLostItsQueues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr := miniredis.RunT(t) // its own server: this test flushes it
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	clock := nudge.NewFixedClock(time.Now())
	enq := NewEnqueuer(rdb, EnqueuerConfig{Clock: clock})
	acct := uniqueAccount(t)

	first := testReminder(acct, "day1")
	require.NoError(t, enq.Enqueue(ctx, first, clock.Now().Add(time.Hour)))
	mr.FlushAll() // Redis lost everything; the scheduler runs on

	clock.Advance(time.Minute)
	again := testReminder(acct, "day2")
	require.NoError(t, enq.Enqueue(ctx, again, clock.Now().Add(time.Hour)))
	require.NoError(t, enq.Cancel(ctx, testLender, nudge.SMS, again.ID))
	_, err := enq.Inspector().GetTaskInfo(QueueSMS+":"+testLender, again.ID)
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "the task re-enqueued after the flush can be cancelled")
}
