package forecast

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
)

// Queue stands in for the task queues: it keeps each reminder's next run
// instant, once per reminder id (as a TaskID does), and hands out the
// reminders whose instant has come in instant order. It satisfies
// schedules.Enqueuer and is safe for concurrent use.
type Queue struct {
	mu    sync.Mutex
	items queueHeap
	// queued maps a queued reminder id to its item.
	queued map[string]*queueItem
	// planned reports the first enqueue of each reminder (nil: none).
	planned func(r nudge.Reminder, at time.Time)
	seen    map[string]bool
	seq     int
}

type queueItem struct {
	id      string
	channel nudge.ChannelKind
	at      time.Time
	seq     int
	index   int
}

// NewQueue returns an empty queue.
func NewQueue() *Queue {
	return &Queue{queued: map[string]*queueItem{}, seen: map[string]bool{}}
}

// Enqueue queues r to run at at. A reminder already queued keeps its place,
// as a task with the same TaskID does.
func (q *Queue) Enqueue(_ context.Context, r nudge.Reminder, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.seen[r.ID] {
		q.seen[r.ID] = true
		if q.planned != nil {
			q.planned(r, at)
		}
	}
	if _, ok := q.queued[r.ID]; ok {
		return nil
	}
	q.push(r.ID, r.Channel, at)
	return nil
}

// again queues id to run at at (a deferral or a retry).
func (q *Queue) again(id string, ch nudge.ChannelKind, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it, ok := q.queued[id]; ok {
		if at.Before(it.at) {
			it.at = at
			heap.Fix(&q.items, it.index)
		}
		return
	}
	q.push(id, ch, at)
}

func (q *Queue) push(id string, ch nudge.ChannelKind, at time.Time) {
	q.seq++
	it := &queueItem{id: id, channel: ch, at: at.UTC(), seq: q.seq}
	heap.Push(&q.items, it)
	q.queued[id] = it
}

// next returns the instant of the earliest queued reminder.
func (q *Queue) next() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.items[0].at, true
}

// pop removes and returns the earliest reminder due at now.
func (q *Queue) pop(now time.Time) (id string, ch nudge.ChannelKind, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 || q.items[0].at.After(now) {
		return "", "", false
	}
	it := heap.Pop(&q.items).(*queueItem)
	delete(q.queued, it.id)
	return it.id, it.channel, true
}

// Len is how many reminders are queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

type queueHeap []*queueItem

func (h queueHeap) Len() int { return len(h) }
func (h queueHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h queueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *queueHeap) Push(x any) {
	it := x.(*queueItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *queueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
