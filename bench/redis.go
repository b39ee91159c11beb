package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
)

// evalScript stands for the small Lua scripts Asynq and the rate limiter run:
// one hash write per call.
const evalScript = `redis.call('HSET', KEYS[1], 'n', ARGV[1]) return 1`

// evalKey is the key evalScript writes (in the bench's database).
const evalKey = "nudge:bench:evalsha"

// EvalResult is Redis's own EVALSHA rate.
type EvalResult struct {
	PerSecond float64 `json:"per_second"`
	// Method is how it was measured: the redis-benchmark command, or
	// "go-redis" with the number of clients.
	Method string `json:"method"`
}

var rpsPattern = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?) requests per second`)

// measureEvalSHA measures EVALSHA of evalScript with redis-benchmark when it
// is available, else with go-redis clients in tight loops.
func measureEvalSHA(ctx context.Context, e *env, n int) (EvalResult, error) {
	sha, err := e.rdb.ScriptLoad(ctx, evalScript).Result()
	if err != nil {
		return EvalResult{}, fmt.Errorf("load evalsha script: %w", err)
	}
	bin := e.cfg.RedisBenchmark
	if bin == "" {
		if p, err := exec.LookPath("redis-benchmark"); err == nil {
			bin = p
		}
	}
	if bin != "" && bin != "none" {
		host, port, err := net.SplitHostPort(e.cfg.RedisAddr)
		if err != nil {
			return EvalResult{}, fmt.Errorf("redis addr %q: %w", e.cfg.RedisAddr, err)
		}
		args := []string{"-h", host, "-p", port, "--dbnum", strconv.Itoa(e.cfg.RedisDB), "-n", strconv.Itoa(n), "-q",
			"evalsha", sha, "1", evalKey, "1"}
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			return EvalResult{}, fmt.Errorf("redis-benchmark: %w: %s", err, strings.TrimSpace(string(out)))
		}
		// The last report line holds the final rate.
		m := rpsPattern.FindAllStringSubmatch(string(out), -1)
		if len(m) == 0 {
			return EvalResult{}, fmt.Errorf("redis-benchmark: no rate in %q", strings.TrimSpace(string(out)))
		}
		v, err := strconv.ParseFloat(m[len(m)-1][1], 64)
		if err != nil {
			return EvalResult{}, fmt.Errorf("redis-benchmark rate: %w", err)
		}
		return EvalResult{PerSecond: v, Method: "redis-benchmark " + strings.Join(args, " ")}, nil
	}
	clients := e.cfg.Concurrency * e.cfg.Servers
	per := max(n/clients, 1)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range per {
				if err := e.rdb.EvalSha(ctx, sha, []string{evalKey}, 1).Err(); err != nil {
					mu.Lock()
					ferr = errors.Join(ferr, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if ferr != nil {
		return EvalResult{}, fmt.Errorf("evalsha loop: %w", ferr)
	}
	return EvalResult{PerSecond: rate(per*clients, time.Since(start)),
		Method: fmt.Sprintf("go-redis EVALSHA loop, %d clients (redis-benchmark not on PATH)", clients)}, nil
}

// rawReminder is a stand-in reminder of lender whose task a do-nothing
// handler works off (on the lender's queue, as a real reminder's).
func rawReminder(lender string, i int) nudge.Reminder {
	return nudge.Reminder{ID: fmt.Sprintf("rem_raw_%07d", i), Key: nudge.ReminderKey{Lender: lender}, Channel: nudge.SMS}
}

// enqueueRaw enqueues n stand-in reminders one after another, as the
// planner does, through the product's Enqueuer (same options, TaskID and
// retention), and returns the time it took.
func enqueueRaw(ctx context.Context, e *env, n int) (time.Duration, error) {
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: e.clock})
	start := time.Now()
	for i := range n {
		if err := enq.Enqueue(ctx, rawReminder(e.lender, i), e.clock.Now()); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// MemoryResult is the Redis memory one queued reminder takes.
type MemoryResult struct {
	// Queued is how many scheduled tasks were enqueued.
	Queued int `json:"queued"`
	// ReminderBytes is MEMORY USAGE summed over the bench database's keys,
	// per scheduled reminder (Nudge's Enqueuer: TaskID, retry, timeout and
	// retention options, JSON payload).
	ReminderBytes float64 `json:"reminder_bytes"`
	// BareBytes is the same for a bare Asynq task with no payload or options.
	BareBytes float64 `json:"bare_bytes"`
	// UsedMemoryBytes is the change of INFO used_memory per reminder; the
	// whole server's figure, noisy when others use it.
	UsedMemoryBytes float64 `json:"used_memory_bytes"`
}

// measureRedisMemory enqueues n scheduled reminders an hour ahead and then n
// bare tasks, and divides the memory each batch added by n.
func measureRedisMemory(ctx context.Context, e *env, n int) (MemoryResult, error) {
	res := MemoryResult{Queued: n}
	if err := e.flush(ctx); err != nil {
		return res, err
	}
	usedBefore, _ := usedMemory(ctx, e.rdb)
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: e.clock})
	at := e.clock.Now().Add(time.Hour)
	for i := range n {
		r := nudge.Reminder{ID: fmt.Sprintf("rem_%s_q%07d", e.lender, i), Key: nudge.ReminderKey{Lender: e.lender}, Channel: nudge.SMS}
		if err := enq.Enqueue(ctx, r, at); err != nil {
			return res, err
		}
	}
	usedAfter, uerr := usedMemory(ctx, e.rdb)
	total, err := dbMemory(ctx, e.rdb)
	if err != nil {
		return res, err
	}
	res.ReminderBytes = float64(total) / float64(n)
	if uerr == nil && usedBefore > 0 {
		res.UsedMemoryBytes = float64(usedAfter-usedBefore) / float64(n)
	}
	if err := e.flush(ctx); err != nil {
		return res, err
	}
	client := asynq.NewClientFromRedisClient(e.rdb)
	for range n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:bare", nil), asynq.Queue(dispatcher.QueueSMS), asynq.ProcessIn(time.Hour)); err != nil {
			return res, fmt.Errorf("enqueue bare task: %w", err)
		}
	}
	if total, err = dbMemory(ctx, e.rdb); err != nil {
		return res, err
	}
	res.BareBytes = float64(total) / float64(n)
	return res, e.flush(ctx)
}

// usedMemory reads INFO memory used_memory.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis info memory: %w", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("redis info memory: no used_memory")
}

// dbMemory sums MEMORY USAGE (every element counted) over the keys of the
// client's database.
func dbMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	var total int64
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil {
			// Servers without SAMPLES (miniredis) estimate on their own.
			n, err = rdb.MemoryUsage(ctx, iter.Val()).Result()
		}
		if err != nil {
			return 0, fmt.Errorf("redis memory usage %s: %w", iter.Val(), err)
		}
		total += n
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("redis scan: %w", err)
	}
	return total, nil
}
