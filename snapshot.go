package nudge

import "time"

// ContactRef names one address on one channel.
type ContactRef struct {
	Channel ChannelKind
	Address string
}

// AccountSnapshotQuery says what a store reads with an account in one
// snapshot: the send path reads an account's whole state at once (one round
// trip to the database where the backend allows it) instead of one query per
// fact.
type AccountSnapshotQuery struct {
	// HistorySince, when not zero, reads the account's attempts created at or
	// after it, oldest first (as AttemptHistory).
	HistorySince time.Time
	// Promise reads the account's active promise (as ActivePromise).
	Promise bool
	// Pauses reads the lender's pauses (as ListPauses).
	Pauses bool
	// OptOuts are addresses whose opt-out is checked (as IsOptedOut).
	OptOuts []ContactRef
	// ContactedBesides, when not empty, reads whether an attempt of the
	// account that belongs to a reminder other than this one ever reached a
	// provider (AccountSnapshot.Contacted): a first contact is worded
	// differently (Regulation F's validation notice, for one).
	ContactedBesides string
}

// AccountSnapshot is an account with the state an AccountSnapshotQuery asked
// for, read together.
type AccountSnapshot struct {
	Account Account
	History []Attempt
	// Promise is the active promise, nil when there is none (or it was not
	// asked for).
	Promise *Promise
	Pauses  []Pause
	// OptedOut are the queried addresses that opted out.
	OptedOut []ContactRef
	// Contacted is the answer to AccountSnapshotQuery.ContactedBesides.
	Contacted bool
}

// IsOptedOut reports whether the snapshot found address opted out of
// channel. Only addresses the query named are known.
func (s AccountSnapshot) IsOptedOut(channel ChannelKind, address string) bool {
	for _, r := range s.OptedOut {
		if r.Channel == channel && r.Address == address {
			return true
		}
	}
	return false
}
