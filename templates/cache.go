package templates

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// maxCached bounds each cache of the package: a borrower's country, language,
// phone number and amount come from outside, so the number of keys is not
// bounded by the pack.
const maxCached = 1024

// cache is a concurrent map of computed values that keeps the first
// maxCached it is given and computes the others every time: the values are
// pure functions of their keys, so a value computed twice is the same, and
// a process fed an unbounded variety of keys does not grow without bound.
// The zero cache is ready to use.
type cache[K comparable, V any] struct {
	m sync.Map
	n atomic.Int64
}

// get returns the value for k, computing it with compute when the cache
// does not hold it. A value that compute fails on is not kept.
func (c *cache[K, V]) get(k K, compute func() (V, error)) (V, error) {
	if v, ok := c.m.Load(k); ok {
		return v.(V), nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	if c.n.Add(1) <= maxCached {
		c.m.Store(k, v)
	}
	return v, nil
}

// recentSlots is the number of slots of a recent cache.
const recentSlots = 128

// recentSeed hashes the keys of every recent cache.
var recentSeed = maphash.MakeSeed()

// recent is a cache for keys too varied for cache (each borrower's amount)
// that are asked for again soon after (a reminder's amount is formatted in
// its text and again in its menu): each key has one of recentSlots slots,
// chosen by its hash, which keeps the last key computed there and its value.
// The zero recent is ready to use.
type recent[K comparable, V any] struct {
	slots [recentSlots]atomic.Pointer[recentEntry[K, V]]
}

type recentEntry[K comparable, V any] struct {
	k K
	v V
}

// get returns the value for k, computing it with compute when k's slot
// holds another key. A value that compute fails on is not kept.
func (c *recent[K, V]) get(k K, compute func() (V, error)) (V, error) {
	slot := &c.slots[maphash.Comparable(recentSeed, k)%recentSlots]
	if e := slot.Load(); e != nil && e.k == k {
		return e.v, nil
	}
	v, err := compute()
	if err == nil {
		slot.Store(&recentEntry[K, V]{k, v})
	}
	return v, err
}
