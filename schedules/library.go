package schedules

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

// Versioned is a parsed cadence with the version it was stored under.
type Versioned struct {
	*Cadence
	Version int
}

// CadenceStore is the part of the store the Library reads.
type CadenceStore interface {
	ActiveCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error)
	GetCadence(ctx context.Context, lender, name string, version int) (nudge.CadenceVersion, error)
}

// Library serves lenders' active cadences and their compliance profiles from
// the store, parsing each stored version once.
type Library struct {
	store    CadenceStore
	opts     []Option
	profiles *compliance.Registry

	mu     sync.Mutex
	parsed map[string]*Cadence // lender/name/version → cadence

	// ttl > 0 keeps each lender's active list that long (see CacheActive).
	ttl    time.Duration
	clock  nudge.Clock
	active map[string]activeEntry
}

type activeEntry struct {
	at   time.Time
	list []nudge.CadenceVersion
}

// CacheActive makes Cadences reuse a lender's list of active versions for
// ttl instead of reading it for every reminder; an activation then takes
// effect within ttl. Call it before the Library is shared.
func (l *Library) CacheActive(ttl time.Duration, clock nudge.Clock) {
	l.ttl, l.clock, l.active = ttl, clock, map[string]activeEntry{}
}

// activeVersions reads the lender's active versions, through the cache when on.
func (l *Library) activeVersions(ctx context.Context, lender string) ([]nudge.CadenceVersion, error) {
	if l.ttl <= 0 {
		return l.store.ActiveCadences(ctx, lender)
	}
	now := l.clock.Now()
	l.mu.Lock()
	e, ok := l.active[lender]
	l.mu.Unlock()
	if ok && now.Sub(e.at) < l.ttl {
		return e.list, nil
	}
	vs, err := l.store.ActiveCadences(ctx, lender)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.active[lender] = activeEntry{at: now, list: vs}
	l.mu.Unlock()
	return vs, nil
}

// NewLibrary returns a Library over store. opts are the parse options (the
// template pack and known profiles) used to parse stored versions.
func NewLibrary(store CadenceStore, profiles *compliance.Registry, opts ...Option) *Library {
	return &Library{store: store, opts: opts, profiles: profiles, parsed: map[string]*Cadence{}}
}

// Cadences returns the lender's active cadences in name order.
func (l *Library) Cadences(ctx context.Context, lender string) ([]Versioned, error) {
	vs, err := l.activeVersions(ctx, lender)
	if err != nil {
		return nil, fmt.Errorf("loading cadences of %s: %w", lender, err)
	}
	out := make([]Versioned, 0, len(vs))
	for _, v := range vs {
		c, err := l.parse(v)
		if err != nil {
			return nil, err
		}
		out = append(out, Versioned{Cadence: c, Version: v.Version})
	}
	return out, nil
}

// Cadence returns one version of a lender's cadence.
func (l *Library) Cadence(ctx context.Context, lender, name string, version int) (*Cadence, error) {
	key := fmt.Sprintf("%s/%s/%d", lender, name, version)
	l.mu.Lock()
	c, ok := l.parsed[key]
	l.mu.Unlock()
	if ok {
		return c, nil
	}
	v, err := l.store.GetCadence(ctx, lender, name, version)
	if err != nil {
		return nil, fmt.Errorf("loading cadence %s: %w", key, err)
	}
	return l.parse(v)
}

// Profile returns the compliance profile of a lender's cadence version.
func (l *Library) Profile(ctx context.Context, lender, name string, version int) (*compliance.Profile, error) {
	c, err := l.Cadence(ctx, lender, name, version)
	if err != nil {
		return nil, err
	}
	return l.profiles.Lookup(c.Profile)
}

// ActiveProfile returns the compliance profile of the lender's active
// cadence named cadence.
func (l *Library) ActiveProfile(ctx context.Context, lender, cadence string) (*compliance.Profile, error) {
	cads, err := l.Cadences(ctx, lender)
	if err != nil {
		return nil, err
	}
	for _, c := range cads {
		if c.Name == cadence {
			return l.profiles.Lookup(c.Profile)
		}
	}
	return nil, fmt.Errorf("cadence %s of lender %s is not active", cadence, lender)
}

// AccountProfile returns the compliance profile of the active cadence that
// plans the account (Covering), or false when none covers it.
func (l *Library) AccountProfile(ctx context.Context, a nudge.Account) (*compliance.Profile, bool, error) {
	cads, err := l.Cadences(ctx, a.Lender)
	if err != nil {
		return nil, false, err
	}
	c, ok := Covering(cads, a.Portfolio)
	if !ok {
		return nil, false, nil
	}
	p, err := l.profiles.Lookup(c.Profile)
	return p, err == nil, err
}

// Profiles returns the registry profiles are looked up in.
func (l *Library) Profiles() *compliance.Registry { return l.profiles }

func (l *Library) parse(v nudge.CadenceVersion) (*Cadence, error) {
	key := fmt.Sprintf("%s/%s/%d", v.Lender, v.Name, v.Version)
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.parsed[key]; ok {
		return c, nil
	}
	c, err := Parse(key, v.Source, l.opts...)
	if err != nil {
		return nil, fmt.Errorf("stored cadence %s no longer parses: %w", key, err)
	}
	l.parsed[key] = c
	return c, nil
}
