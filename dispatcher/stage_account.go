package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nudgehq/nudge"
)

// account reloads the account with what the decision needs (the recent
// attempts and the active promise) in one round trip, checks the opt-outs of
// its addresses on the candidate channels in one query, and picks the
// address: the first usable contact on the reminder's channel that has not
// opted out, else one on the fallback channel, else the first contact anyway
// so that compliance names the reason. With no contact at all the address
// stays empty and compliance suppresses with no_contact.
func (p *Pipeline) account(ctx context.Context, j *job) (bool, error) {
	r := j.reminder
	now := p.cfg.Clock.Now()
	// The profile says whether the renderer may need to know if another
	// reminder ever reached the borrower (a disclosing collector's first
	// message says more); other lenders' reminders skip that read. A profile
	// that cannot be loaded is reported by the decision, after the
	// cancellations below, as before.
	j.profile, j.profileErr = p.cfg.Profiles.Profile(ctx, r.Key.Lender, r.Key.Cadence)
	q := nudge.AccountSnapshotQuery{HistorySince: now.Add(-p.cfg.HistoryWindow), Promise: true, Pauses: r.Channel == nudge.Task}
	if j.profileErr == nil && j.profile.Discloses() {
		q.ContactedBesides = r.ID
	}
	snap, err := p.cfg.Store.AccountSnapshot(ctx, r.Key.Lender, r.Key.AccountID, q)
	if errors.Is(err, nudge.ErrNotFound) {
		why := "the account no longer exists"
		if err := p.record(ctx, p.event(j, nudge.EventCanceled, nudge.ReasonCanceled, map[string]string{"note": why})); err != nil {
			return false, err
		}
		if err := p.closePrior(ctx, j, nudge.ReasonCanceled, why); err != nil {
			return false, err
		}
		return true, p.finish(ctx, j, nudge.ReminderCanceled, nudge.ReasonCanceled)
	}
	if err != nil {
		return false, fmt.Errorf("load account: %w", err)
	}
	acct := snap.Account
	j.account = acct
	// An attempt of this very reminder left retrying is the one about to be
	// resumed: it must not count against its own caps.
	j.history = slices.DeleteFunc(snap.History, func(a nudge.Attempt) bool { return a.ReminderID == r.ID })
	j.promise = snap.Promise
	j.pauses = snap.Pauses
	if q.ContactedBesides != "" {
		j.contacted = &snap.Contacted
	}
	if !r.BrokenPromise && r.Key.Cycle != acct.DueDate {
		// The account has a new due date: this reminder's cycle is over and it
		// is never sent late.
		why := fmt.Sprintf("the cycle of %s ended: the account is now due %s", r.Key.Cycle, acct.DueDate)
		if err := p.record(ctx, p.event(j, nudge.EventExpired, nudge.ReasonCycleEnded, map[string]string{"note": why})); err != nil {
			return false, err
		}
		if err := p.closePrior(ctx, j, nudge.ReasonCycleEnded, why); err != nil {
			return false, err
		}
		return true, p.finish(ctx, j, nudge.ReminderExpired, nudge.ReasonCycleEnded)
	}
	chans := candidateChannels(r)
	if r.Channel == nudge.Task {
		chans = taskChannels(r.Template)
	}
	var refs []nudge.ContactRef
	for _, ch := range chans {
		for _, c := range acct.ContactsFor(ch) {
			refs = append(refs, nudge.ContactRef{Channel: ch, Address: c.Address})
		}
	}
	opted, err := p.cfg.Store.OptedOut(ctx, r.Key.Lender, refs)
	if err != nil {
		return false, fmt.Errorf("check opt-outs: %w", err)
	}
	isOpted := func(ch nudge.ChannelKind, address string) bool {
		return slices.Contains(opted, nudge.ContactRef{Channel: ch, Address: address})
	}
	for _, ch := range chans {
		for _, c := range acct.ContactsFor(ch) {
			if c.State == nudge.ContactOK && !isOpted(ch, c.Address) {
				j.channel, j.address = ch, c.Address
				return false, nil
			}
		}
	}
	for _, ch := range chans {
		if cs := acct.ContactsFor(ch); len(cs) > 0 {
			j.channel, j.address = ch, cs[0].Address
			j.optedOut = isOpted(ch, cs[0].Address)
			return false, nil
		}
	}
	j.channel = chans[0]
	return false, nil
}
