package link

import (
	"context"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
)

// MemoryStore is a Store in memory, for tests and tools. It is safe for
// concurrent use.
type MemoryStore struct {
	mu    sync.Mutex
	links map[string]Link
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{links: map[string]Link{}} }

// IssueLink implements Store.
func (m *MemoryStore) IssueLink(_ context.Context, l Link, reuseFrom time.Time) (Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best Link
	for _, o := range m.links {
		if o.Purpose != l.Purpose || o.Lender != l.Lender || o.AccountID != l.AccountID || o.Channel != l.Channel ||
			o.Address != l.Address || o.Attempt != l.Attempt {
			continue
		}
		switch {
		case l.ExpiresAt.IsZero() && o.ExpiresAt.IsZero():
			return o, nil
		case !l.ExpiresAt.IsZero() && !o.ExpiresAt.IsZero() && !o.ExpiresAt.Before(reuseFrom) && o.ExpiresAt.After(best.ExpiresAt):
			best = o
		}
	}
	if best.Token != "" {
		return best, nil
	}
	m.links[l.Token] = l
	return l, nil
}

// GetLink implements Store.
func (m *MemoryStore) GetLink(_ context.Context, token string) (Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[token]
	if !ok {
		return Link{}, nudge.ErrNotFound
	}
	return l, nil
}

// Revoke deletes the account's tokens and returns how many there were.
func (m *MemoryStore) Revoke(lender, accountID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for t, l := range m.links {
		if l.Lender == lender && l.AccountID == accountID {
			delete(m.links, t)
			n++
		}
	}
	return n
}

// Len returns how many tokens are stored.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.links)
}

// NewSigner returns a Service over a new MemoryStore and the system clock.
// Links are no longer signed claims: it remains for tests written against
// the signed links and will go; use New with the store.
func NewSigner(secret []byte) (*Service, error) {
	return New(secret, NewMemoryStore(), nil)
}
