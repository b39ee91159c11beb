package compliance

import "sync"

// PhoneZoneCacheSize bounds how many numbers' zones PhoneZones remembers (two
// generations of at most half as many each: about 2 MB at the bound).
const PhoneZoneCacheSize = 32_768

// phoneZones is the process's cache of PhoneZones answers.
var phoneZones = newZoneCache(PhoneZoneCacheSize)

// zoneCache is a bounded map from a phone number to its zones with
// least-recently-used eviction by generations: entries live in the current
// generation; when it is full it becomes the previous one and the one before
// is dropped; a hit in the previous generation moves the entry forward. A
// number's zones depend only on libphonenumber's data, so entries never go
// stale within a process.
type zoneCache struct {
	mu        sync.Mutex
	half      int
	cur, prev map[string][]string
}

func newZoneCache(size int) *zoneCache {
	half := max(size/2, 1)
	return &zoneCache{half: half, cur: make(map[string][]string, half)}
}

func (c *zoneCache) get(number string) ([]string, bool) {
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

func (c *zoneCache) put(number string, zones []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(number, zones)
}

func (c *zoneCache) putLocked(number string, zones []string) {
	if len(c.cur) >= c.half {
		c.prev, c.cur = c.cur, make(map[string][]string, c.half)
	}
	c.cur[number] = zones
}

// len is how many numbers the cache holds (for tests).
func (c *zoneCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
