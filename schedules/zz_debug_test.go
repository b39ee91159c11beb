package schedules_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

func TestZZDebug(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	clock := nudge.NewFixedClock(t0)
	enq := dispatcher.NewEnqueuer(rdb, dispatcher.EnqueuerConfig{Clock: clock})
	r := nudge.Reminder{ID: "rem_x", Channel: nudge.SMS}
	t.Log(enq.Enqueue(context.Background(), r, t0))
	_, err := enq.Inspector().GetTaskInfo("sms", "rem_x")
	t.Log(err)
	rdb.FlushDB(context.Background())
	clock.Advance(time.Minute)
	t.Log(enq.Enqueue(context.Background(), r, t0.Add(time.Minute)))
	info, err := enq.Inspector().GetTaskInfo("sms", "rem_x")
	t.Log(info, err)
	qs, err := enq.Inspector().Queues()
	t.Log(qs, err)
}
