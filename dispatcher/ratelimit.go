package dispatcher

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
)

// RateKeyPrefix prefixes every token-bucket key in Redis.
const RateKeyPrefix = "nudge:rate:"

// tokenBucket refills rate tokens per second up to burst and takes one.
// KEYS[1] bucket; ARGV[1] tokens per second; ARGV[2] burst; ARGV[3] now in
// microseconds, or empty to use the Redis server's TIME.
// It returns {1, 0} when a token was taken, or {0, wait in microseconds}.
var tokenBucket = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
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
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {ok, wait}
`)

// RateLimiter is a token bucket per sender kept in Redis, so every worker
// process shares the provider's rate (messages or calls per second).
type RateLimiter struct {
	rdb   redis.UniversalClient
	clock nudge.Clock
}

// NewRateLimiter returns a limiter over rdb. With a nil clock the buckets use
// the Redis server's TIME, one clock for every worker; with a clock (tests,
// simulations) they use it.
func NewRateLimiter(rdb redis.UniversalClient, clock nudge.Clock) *RateLimiter {
	return &RateLimiter{rdb: rdb, clock: clock}
}

// Take takes one token from the bucket key, which refills perSecond tokens a
// second and holds at most burst. It reports whether a token was taken and,
// when not, how long until one will be available.
func (l *RateLimiter) Take(ctx context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	if perSecond <= 0 || math.IsInf(perSecond, 0) || math.IsNaN(perSecond) {
		return false, 0, fmt.Errorf("rate limit %q: rate %v per second must be positive and finite", key, perSecond)
	}
	burst = max(burst, 1)
	now := ""
	if l.clock != nil {
		now = strconv.FormatInt(l.clock.Now().UnixMicro(), 10)
	}
	res, err := tokenBucket.Run(ctx, l.rdb, []string{RateKeyPrefix + key},
		strconv.FormatFloat(perSecond, 'f', -1, 64), burst, now).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %q: %w", key, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit %q: script returned %d values", key, len(res))
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
