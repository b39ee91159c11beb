package dispatcher

import (
	"context"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge"
)

// account reloads the account and picks the address: the first usable
// contact on the reminder's channel that has not opted out, else one on the
// fallback channel, else the first contact anyway so that compliance names
// the reason. With no contact at all the address stays empty and compliance
// suppresses with no_contact.
func (p *Pipeline) account(ctx context.Context, j *job) (bool, error) {
	r := j.reminder
	acct, err := p.cfg.Store.GetAccount(ctx, r.Key.Lender, r.Key.AccountID)
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
	j.account = acct
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
	for _, ch := range chans {
		for _, c := range acct.ContactsFor(ch) {
			if c.State != nudge.ContactOK {
				continue
			}
			opted, err := p.optedOut(ctx, j, ch, c.Address)
			if err != nil {
				return false, err
			}
			if !opted {
				j.channel, j.address = ch, c.Address
				return false, nil
			}
		}
	}
	for _, ch := range chans {
		if cs := acct.ContactsFor(ch); len(cs) > 0 {
			j.channel, j.address = ch, cs[0].Address
			j.optedOut, err = p.optedOut(ctx, j, ch, cs[0].Address)
			return false, err
		}
	}
	j.channel = r.Channel
	return false, nil
}

func (p *Pipeline) optedOut(ctx context.Context, j *job, ch nudge.ChannelKind, address string) (bool, error) {
	opted, err := p.cfg.Store.IsOptedOut(ctx, j.reminder.Key.Lender, ch, address)
	if err != nil {
		return false, fmt.Errorf("check opt-out on %s: %w", ch, err)
	}
	return opted, nil
}
