package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

// taskTimeout bounds one run of a delivery task: a request and the
// account's deliveries that follow it.
const taskTimeout = 5 * time.Minute

// AsynqQueue puts delivery tasks on the webhooks queue.
type AsynqQueue struct {
	client *asynq.Client
	clock  nudge.Clock
}

var _ Queue = (*AsynqQueue)(nil)

// NewQueue returns a Queue over rdb; the caller keeps ownership of rdb.
// Process instants are turned into delays against clock (nil: the wall
// clock).
func NewQueue(rdb redis.UniversalClient, clock nudge.Clock) *AsynqQueue {
	if clock == nil {
		clock = nudge.SystemClock
	}
	return &AsynqQueue{client: asynq.NewClientFromRedisClient(rdb), clock: clock}
}

// EnqueueDelivery queues d's task at at. Its TaskID is the delivery id and
// its try count, so a delivery is queued once per try however many
// replicas and ticks ask.
func (q *AsynqQueue) EnqueueDelivery(ctx context.Context, d nudge.WebhookDelivery, at time.Time) error {
	b, err := json.Marshal(deliverPayload{DeliveryID: d.ID})
	if err != nil {
		return err
	}
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(TypeDeliver, b),
		asynq.Queue(dispatcher.QueueWebhooks), asynq.TaskID(d.ID+":"+strconv.Itoa(d.Attempts)),
		asynq.ProcessIn(at.Sub(q.clock.Now())), asynq.MaxRetry(5), asynq.Timeout(taskTimeout))
	if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue webhook delivery %s: %w", d.ID, err)
	}
	return nil
}
