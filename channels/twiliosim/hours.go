package twiliosim

import (
	"time"
)

// Defaults for Hours.
const (
	// DefaultPeakRate is how often a borrower answers at their best hour.
	DefaultPeakRate = 0.9
	// DefaultNearRate is how often they answer an hour either side of it.
	DefaultNearRate = 0.25
	// DefaultOffRate is how often they answer at any other hour.
	DefaultOffRate = 0.05
	// DefaultHoursReplies bounds the replies of a generated borrower under
	// the hours model (instead of one): a borrower who answers at their
	// best hour keeps answering.
	DefaultHoursReplies = 1000
)

// DefaultBestHours are the local hours a generated borrower's best hour is
// drawn from: the hours every US and Chinese contact window allows.
var DefaultBestHours = []int{9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

// Hours gives every generated borrower a hidden best hour of the day, drawn
// from the seed and the number: they answer calls and reply to texts mostly
// at that local hour, rarely at others. Nudge's send-time optimisation
// (docs/send-time.md) is meant to find it. The zero value is off: borrowers
// answer whatever the hour.
type Hours struct {
	// Enabled turns the model on.
	Enabled bool
	// Zone returns the zone a borrower lives in; nil (or a nil answer)
	// means Location.
	Zone func(number string) *time.Location
	// Location is the borrowers' zone when Zone gives none (default UTC).
	Location *time.Location
	// Candidates are the local hours best hours are drawn from (default
	// DefaultBestHours).
	Candidates []int
	// PeakRate, NearRate and OffRate are the chances of an answer at the
	// best hour, an hour either side and any other hour (defaults
	// DefaultPeakRate, DefaultNearRate, DefaultOffRate).
	PeakRate, NearRate, OffRate float64
	// MaxReplies bounds a generated borrower's replies (default
	// DefaultHoursReplies).
	MaxReplies int
}

func (h Hours) withDefaults() Hours {
	if h.Location == nil {
		h.Location = time.UTC
	}
	if len(h.Candidates) == 0 {
		h.Candidates = DefaultBestHours
	}
	if h.PeakRate == 0 {
		h.PeakRate = DefaultPeakRate
	}
	if h.NearRate == 0 {
		h.NearRate = DefaultNearRate
	}
	if h.OffRate == 0 {
		h.OffRate = DefaultOffRate
	}
	if h.MaxReplies <= 0 {
		h.MaxReplies = DefaultHoursReplies
	}
	return h
}

// zone is the borrower's zone.
func (h Hours) zone(number string) *time.Location {
	if h.Zone != nil {
		if loc := h.Zone(number); loc != nil {
			return loc
		}
	}
	return h.Location
}

// BestHour returns the hidden best local hour of the generated borrower
// behind number, and false when the hours model is off.
func (s *Sim) BestHour(number string) (int, bool) {
	h := s.cfg.Hours
	if !h.Enabled {
		return 0, false
	}
	return h.Candidates[hash64(s.cfg.Seed, number, 21)%uint64(len(h.Candidates))], true
}

// answersNow reports whether the borrower behind number answers the
// message or call sid at the current local hour: always with the hours
// model off, otherwise with the chance of the hour's distance from their
// best hour, drawn deterministically from the seed, the number and sid.
func (s *Sim) answersNow(number, sid string) bool {
	best, ok := s.BestHour(number)
	if !ok {
		return true
	}
	h := s.cfg.Hours
	hour := s.cfg.Clock.Now().In(h.zone(number)).Hour()
	rate := h.OffRate
	switch d := min((hour-best+24)%24, (best-hour+24)%24); d {
	case 0:
		rate = h.PeakRate
	case 1:
		rate = h.NearRate
	}
	draw := float64(hash64(s.cfg.Seed, number+"/"+sid, 22)>>11) / (1 << 53)
	return draw < rate
}

// withHours gives a generated borrower the hours model's reply bound.
func (h Hours) withHours(b Borrower) Borrower {
	if h.Enabled {
		b.MaxReplies = h.MaxReplies
	}
	return b
}
