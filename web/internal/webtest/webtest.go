// Package webtest holds the test fixtures that more than one package of
// the HTTP layer uses.
package webtest

import (
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Redis is a Redis of the test's own. Tests that count what is on the
// queues (the dashboard's, the metrics endpoint's) cannot share a database
// with tests running beside them; and the webhook tests' one-test-at-a-time
// lock, held by a test whose parallel subtests wait for a free slot, could
// deadlock them. What they test is not Redis: an in-process server serves
// them.
func Redis(t *testing.T) redis.UniversalClient {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// QueueTasks enqueues n SMS reminder tasks (ids rem_queued00, rem_queued01,
// …) on the sms queue of rdb and returns their ids.
func QueueTasks(t *testing.T, rdb redis.UniversalClient, n int) []string {
	t.Helper()
	c := asynq.NewClientFromRedisClient(rdb)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("rem_queued%02d", i)
		_, err := c.Enqueue(asynq.NewTask("reminder:sms", []byte(`{"reminder_id":"`+id+`"}`)), asynq.Queue("sms"), asynq.TaskID(id))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}
