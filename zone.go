package nudge

import (
	"sync"
	"time"
)

var zones sync.Map // name → *time.Location

// LoadLocation is time.LoadLocation with a cache: time.LoadLocation reads
// and parses the zone's tzdata on every call, and the send path asks for the
// same few zones for every reminder. Unknown names are not cached.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
