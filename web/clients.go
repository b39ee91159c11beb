package web

import (
	"container/list"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientKey names the client whose bucket a request draws on: its address
// (from X-Forwarded-For behind a trusted proxy), an IPv6 address by its /64.
func (s *Server) clientKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, aerr := netip.ParseAddr(r.RemoteAddr)
		if aerr != nil {
			return r.RemoteAddr
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	a := ap.Addr().Unmap().WithZone("")
	if s.trusted(a) {
		a = s.forwardedFor(r.Header.Values("X-Forwarded-For"), a)
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// forwardedFor walks X-Forwarded-For from the right, past trusted proxies,
// to the first address a trusted proxy did not vouch for being itself a
// proxy; remote is the trusted peer.
func (s *Server) forwardedFor(values []string, remote netip.Addr) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := remote
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		client = a
		if !s.trusted(a) {
			break
		}
	}
	return client
}

func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.limits.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientLimiter keeps a token bucket per client, most recently seen first,
// dropping idle ones (whose bucket is full again, so nothing is lost) and,
// past max, the least recently seen.
type clientLimiter struct {
	rate  rate.Limit
	burst int
	max   int
	// idle is how long an untouched bucket takes to fill up.
	idle time.Duration

	mu      sync.Mutex
	lru     list.List // of *clientBucket, front most recent
	buckets map[string]*list.Element
}

type clientBucket struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

func newClientLimiter(rl RateLimit) *clientLimiter {
	idle := time.Duration(float64(rl.Burst) / rl.PerSecond * float64(time.Second))
	return &clientLimiter{rate: rate.Limit(rl.PerSecond), burst: rl.Burst, max: rl.MaxClients,
		idle: max(idle, time.Second), buckets: map[string]*list.Element{}}
}

// allow takes a token from key's bucket at now, or reports how long until
// one is there.
func (c *clientLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.Back(); e != nil; e = c.lru.Back() {
		b := e.Value.(*clientBucket)
		if now.Sub(b.seen) < c.idle {
			break
		}
		c.drop(e)
	}
	e, ok := c.buckets[key]
	if !ok {
		if len(c.buckets) >= c.max {
			c.drop(c.lru.Back())
		}
		e = c.lru.PushFront(&clientBucket{key: key, lim: rate.NewLimiter(c.rate, c.burst)})
		c.buckets[key] = e
	}
	c.lru.MoveToFront(e)
	b := e.Value.(*clientBucket)
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (c *clientLimiter) drop(e *list.Element) {
	c.lru.Remove(e)
	delete(c.buckets, e.Value.(*clientBucket).key)
}
