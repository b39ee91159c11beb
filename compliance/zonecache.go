package compliance

import "sync"

// PhoneZoneCacheSize bounds how many numbers' zones and places PhoneZones
// and phoneSite remember (two generations of at most half as many each:
// under 1 MB at the bound). The uses that repeat come close together (a
// tick's zone and window of an account, a send's decision and last gate),
// so a few thousand numbers hold them; at 32,768 the cache held about
// 7 MB of a worker's heap at 20,000 borrowers (#16).
const PhoneZoneCacheSize = 8_192

// phoneNumbers is the process's cache of what numbers tell (phoneFacts).
var phoneNumbers = newNumberCache[phoneFacts](PhoneZoneCacheSize)

// numberCache is a bounded map from a phone number to what it tells, with
// least-recently-used eviction by generations: entries live in the current
// generation; when it is full it becomes the previous one and the one before
// is dropped; a hit in the previous generation moves the entry forward. What
// a number tells depends only on libphonenumber's data, so entries never go
// stale within a process.
type numberCache[V any] struct {
	mu        sync.Mutex
	half      int
	cur, prev map[string]V
}

func newNumberCache[V any](size int) *numberCache[V] {
	half := max(size/2, 1)
	return &numberCache[V]{half: half, cur: map[string]V{}}
}

func (c *numberCache[V]) get(number string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if z, ok := c.cur[number]; ok {
		return z, true
	}
	z, ok := c.prev[number]
	if ok {
		c.putLocked(number, z)
	}
	return z, ok
}

func (c *numberCache[V]) put(number string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(number, v)
}

func (c *numberCache[V]) putLocked(number string, v V) {
	if len(c.cur) >= c.half {
		c.prev, c.cur = c.cur, make(map[string]V, c.half)
	}
	c.cur[number] = v
}

// len is how many numbers the cache holds (for tests).
func (c *numberCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
