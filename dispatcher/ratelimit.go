package dispatcher

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/groupcommit"
)

// RateKeyPrefix prefixes every token-bucket key in Redis.
const RateKeyPrefix = "nudge:rate:"

// tokenBucket refills rate tokens per second up to burst and takes one.
// KEYS[1] bucket; ARGV[1] tokens per second; ARGV[2] burst; ARGV[3] now in
// microseconds, or empty to use the Redis server's TIME; ARGV[4] the longest
// wait in microseconds the caller accepts for a reserved token (0: none).
// It returns {1, 0} when a token was taken, {1, wait} when the next free
// token was reserved for the caller, who sends after wait (the bucket goes
// below zero: later callers wait behind it, first come first served), or
// {0, wait} when none was within reach.
var tokenBucket = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local reach = tonumber(ARGV[4]) or 0
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
local ok = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.ceil((1 - tokens) * 1000000 / rate)
  if wait <= reach then
    tokens = tokens - 1
    ok = 1
  end
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {ok, wait}
`)

// RateLimiter is a token bucket per sender kept in Redis, so every worker
// process shares the provider's rate (messages or calls per second).
// Concurrent takes share one round trip (a pipeline of the script's runs, in
// order).
type RateLimiter struct {
	rdb   redis.UniversalClient
	clock nudge.Clock
	takes *groupcommit.Group[take, taken]
}

// take is one Take waiting for its pipeline, and taken its answer.
type (
	take struct {
		key       string
		perSecond float64
		burst     int
		reach     time.Duration
	}
	taken struct {
		ok   bool
		wait time.Duration
		err  error
	}
)

// NewRateLimiter returns a limiter over rdb. With a nil clock the buckets use
// the Redis server's TIME, one clock for every worker; with a clock (tests,
// simulations) they use it.
func NewRateLimiter(rdb redis.UniversalClient, clock nudge.Clock) *RateLimiter {
	l := &RateLimiter{rdb: rdb, clock: clock}
	l.takes = groupcommit.New(l.run, groupcommit.Config{})
	return l
}

// Take takes one token from the bucket key, which refills perSecond tokens a
// second and holds at most burst. It reports whether a token was taken and,
// when not, how long until one will be available.
func (l *RateLimiter) Take(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	return l.take(ctx, take{key: key, perSecond: perSecond, burst: max(burst, 1)})
}

// Reserve takes one token from the bucket key as Take does or, when there is
// none now, reserves the next one not yet promised if it comes within
// reach: it then reports true and the wait, after which the token is the
// caller's to use. Reservations are served in the order they were made, so
// under contention no caller loses the race for a token again and again;
// the rate still holds, since every reserved token is one the bucket will
// have refilled by then. A false answer took nothing and gives the wait for
// the next free token.
func (l *RateLimiter) Reserve(ctx context.Context, key string, perSecond float64, burst int, reach time.Duration) (bool, time.Duration, error) {
	return l.take(ctx, take{key: key, perSecond: perSecond, burst: max(burst, 1), reach: max(reach, 0)})
}

func (l *RateLimiter) take(ctx context.Context, t take) (bool, time.Duration, error) {
	if t.perSecond <= 0 || math.IsInf(t.perSecond, 0) || math.IsNaN(t.perSecond) {
		return false, 0, fmt.Errorf("rate limit %q: rate %v per second must be positive and finite", t.key, t.perSecond)
	}
	r := l.takes.Do(ctx, t)
	return r.ok, r.wait, r.err
}

// run runs the script for every take in one pipeline; a take that finds the
// script not loaded (a restarted Redis) runs it again alone, loading it.
func (l *RateLimiter) run(ctx context.Context, takes []take) []taken {
	now := ""
	if l.clock != nil {
		now = strconv.FormatInt(l.clock.Now().UnixMicro(), 10)
	}
	args := func(t take) (keys []string, argv []any) {
		return []string{RateKeyPrefix + t.key}, []any{strconv.FormatFloat(t.perSecond, 'f', -1, 64), t.burst, now, t.reach.Microseconds()}
	}
	cmds := make([]*redis.Cmd, len(takes))
	pipe := l.rdb.Pipeline()
	for i, t := range takes {
		keys, argv := args(t)
		cmds[i] = tokenBucket.EvalSha(ctx, pipe, keys, argv...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	out := make([]taken, len(takes))
	for i, t := range takes {
		cmd := cmds[i]
		if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			keys, argv := args(t)
			cmd = tokenBucket.Run(ctx, l.rdb, keys, argv...)
		}
		res, err := cmd.Int64Slice()
		switch {
		case err != nil:
			out[i].err = fmt.Errorf("rate limit %q: %w", t.key, err)
		case len(res) != 2:
			out[i].err = fmt.Errorf("rate limit %q: script returned %d values", t.key, len(res))
		default:
			out[i] = taken{ok: res[0] == 1, wait: time.Duration(res[1]) * time.Microsecond}
		}
	}
	return out
}
