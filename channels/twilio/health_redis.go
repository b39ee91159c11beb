package twilio

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// reportScript records one call's outcome in a sender's state hash (KEYS[1]:
// failures, open_until in Unix milliseconds) and daily counter (KEYS[2]).
// ARGV: outcome (accepted, failed, delivered, filtered), now in ms,
// threshold, cool-down in ms, the counter's time to live in seconds, and the
// filter window in ms, minimum and share (delivery reports are counted in
// the hash's delivered and filtered since window_start). It returns 1 when
// the breaker closed (the sender recovered), 2 when failures opened it, 3
// when carrier filtering did, and 0 otherwise, so that one process of the
// fleet sees each change.
var reportScript = redis.NewScript(`
local now = tonumber(ARGV[2])
if ARGV[1] == 'delivered' or ARGV[1] == 'filtered' then
  -- ARGV[6..8]: filter window in ms, filter minimum, filter share.
  local start = tonumber(redis.call('HGET', KEYS[1], 'window_start') or '0')
  if now - start >= tonumber(ARGV[6]) then
    redis.call('HSET', KEYS[1], 'window_start', now, 'delivered', 0, 'filtered', 0)
  end
  redis.call('EXPIRE', KEYS[1], 86400)
  if ARGV[1] == 'delivered' then
    redis.call('HINCRBY', KEYS[1], 'delivered', 1)
    return 0
  end
  local filtered = redis.call('HINCRBY', KEYS[1], 'filtered', 1)
  local delivered = tonumber(redis.call('HGET', KEYS[1], 'delivered') or '0')
  if filtered < tonumber(ARGV[7]) or filtered < tonumber(ARGV[8]) * (filtered + delivered) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'window_start', now, 'delivered', 0, 'filtered', 0)
  local was_open = redis.call('HGET', KEYS[1], 'open_until')
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[4]))
  if was_open then
    return 0
  end
  return 3
end
if ARGV[1] == 'accepted' then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
  redis.call('HSET', KEYS[1], 'failures', 0)
  if redis.call('HDEL', KEYS[1], 'open_until') == 1 then
    return 1
  end
  return 0
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('EXPIRE', KEYS[1], 86400)
local open = redis.call('HGET', KEYS[1], 'open_until')
local until_ms = now + tonumber(ARGV[4])
if open then
  redis.call('HSET', KEYS[1], 'open_until', until_ms)
  return 0
end
if failures >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'open_until', until_ms)
  return 2
end
return 0
`)

// RedisHealth is a Health kept in Redis, shared by every process sending
// through the same senders: a circuit breaker per sender (the same rules
// as Breaker) and a counter per sender and UTC day. When Redis cannot be
// reached a sender counts as usable: sending goes on, without failover.
type RedisHealth struct {
	rdb redis.UniversalClient
	cfg BreakerConfig
}

var _ Health = (*RedisHealth)(nil)

// NewRedisHealth returns a RedisHealth on rdb with cfg's empty fields
// defaulted (as NewBreaker does). OnChange is called in the one process
// whose report changed the breaker.
func NewRedisHealth(rdb redis.UniversalClient, cfg BreakerConfig) *RedisHealth {
	return &RedisHealth{rdb: rdb, cfg: NewBreaker(cfg).cfg}
}

// healthKeys are the state hash and today's counter of sender; the hash
// tag keeps them in one Cluster slot.
func healthKeys(sender string, now time.Time) []string {
	base := "nudge:sender:{" + sender + "}"
	return []string{base, base + ":sent:" + now.UTC().Format(time.DateOnly)}
}

// Usable implements Health.
func (h *RedisHealth) Usable(ctx context.Context, sender string, dailyCap int) bool {
	now := h.cfg.Now()
	keys := healthKeys(sender, now)
	pipe := h.rdb.Pipeline()
	open := pipe.HGet(ctx, keys[0], "open_until")
	sent := pipe.Get(ctx, keys[1])
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		slog.Warn("sender health unreadable: the sender counts as usable", "sender", sender, "err", err)
		return true
	}
	if dailyCap > 0 {
		if n, err := sent.Int(); err == nil && n >= dailyCap {
			return false
		}
	}
	until, err := open.Int64()
	return err != nil || now.UnixMilli() >= until
}

// Report implements Health.
func (h *RedisHealth) Report(ctx context.Context, sender string, outcome SenderOutcome) {
	var arg string
	switch outcome {
	case SenderAccepted:
		arg = "accepted"
	case SenderFailed:
		arg = "failed"
	case SenderDelivered:
		arg = "delivered"
	case SenderFiltered:
		arg = "filtered"
	default:
		return
	}
	now := h.cfg.Now()
	res, err := reportScript.Run(ctx, h.rdb, healthKeys(sender, now), arg, now.UnixMilli(),
		h.cfg.Threshold, h.cfg.Cooldown.Milliseconds(), strconv.Itoa(2*24*3600),
		h.cfg.FilterWindow.Milliseconds(), h.cfg.FilterMin, strconv.FormatFloat(h.cfg.FilterShare, 'f', -1, 64)).Int()
	if err != nil {
		slog.Warn("record sender health", "sender", sender, "err", err)
		return
	}
	switch res {
	case 1:
		h.cfg.OnChange(SenderChange{Sender: sender, At: now})
	case 2:
		h.cfg.OnChange(SenderChange{Sender: sender, Tripped: true, Failures: h.cfg.Threshold, At: now})
	case 3:
		h.cfg.OnChange(SenderChange{Sender: sender, Tripped: true, Filtered: h.cfg.FilterMin, At: now})
	}
}
