package templates

import (
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
