package ops

import (
	"context"
	"fmt"
	"slices"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/sendtime"
)

// sendTimeData is the account page's send-time section: for each channel
// the account has a contact on, the hour send-time optimisation would choose
// today, from now on, with each candidate hour's evidence, as
// `nudge explain --send-time` prints it (docs/send-time.md).
type sendTimeData struct {
	// On is whether the lender has send-time optimisation on; the section
	// explains the choice either way.
	On bool
	// Note says why no channel is explained (no active cadence covers the
	// account).
	Note     string
	Channels []sendTimeChannel
}

// sendTimeChannel is the choice on one channel.
type sendTimeChannel struct {
	Channel nudge.ChannelKind
	// Summary is the choice in words, or that no hour is left today.
	Summary string
	Hours   []sendTimeHour
}

// sendTimeHour is one candidate hour's evidence: the borrower's own
// successes/trials, those of similar borrowers, the posterior's mean and
// the value drawn from it.
type sendTimeHour struct {
	Hour, Own, Pool, Mean, Sample string
	Chosen, Best                  bool
}

// sendTimeChannels are the channels send-time optimisation places.
var sendTimeChannels = []nudge.ChannelKind{nudge.SMS, nudge.Voice, nudge.Email}

// sendTime explains the send time of acct on each of its channels; nil
// when the console has no optimiser or no cadences.
func (o *Ops) sendTime(ctx context.Context, v *opsView, acct nudge.Account) (*sendTimeData, error) {
	if o.cfg.SendTime == nil || o.cfg.Cadences == nil {
		return nil, nil
	}
	d := &sendTimeData{On: o.cfg.SendTime.On(acct.Lender)}
	profile, err := o.accountProfile(ctx, acct)
	if err != nil {
		return nil, err
	}
	if profile == nil {
		d.Note = v.T("No active cadence covers this account, so no send time is chosen for it.")
		return d, nil
	}
	var seen []nudge.ChannelKind
	for _, c := range acct.Contacts {
		if slices.Contains(seen, c.Channel) || !slices.Contains(sendTimeChannels, c.Channel) {
			continue
		}
		seen = append(seen, c.Channel)
		choice, ok, err := o.cfg.SendTime.Explain(ctx, acct, c.Channel, profile, v.Now)
		if err != nil {
			return nil, fmt.Errorf("send time of %s on %s: %w", acct.ID, c.Channel, err)
		}
		d.Channels = append(d.Channels, sendTimeView(v, c.Channel, choice, ok))
	}
	return d, nil
}

// sendTimeView puts a choice in words and rows.
func sendTimeView(v *opsView, ch nudge.ChannelKind, c sendtime.Choice, ok bool) sendTimeChannel {
	out := sendTimeChannel{Channel: ch}
	if !ok {
		out.Summary = v.T("No hour of today is left in the window.")
		return out
	}
	loc, err := nudge.LoadLocation(c.Zone)
	if err != nil {
		loc = v.loc()
	}
	out.Summary = v.Tf("Chosen: %s (hour %02d in %s); best estimate hour %02d.", c.At.In(loc).Format("2006-01-02 15:04 MST"), c.Hour, c.Zone, c.Best)
	for _, e := range c.Hours {
		out.Hours = append(out.Hours, sendTimeHour{Hour: fmt.Sprintf("%02d:00", e.Hour),
			Own:  fmt.Sprintf("%d/%d", e.Own.Successes, e.Own.Trials),
			Pool: fmt.Sprintf("%d/%d", e.Pool.Successes, e.Pool.Trials),
			Mean: fmt.Sprintf("%.3f", e.Mean), Sample: fmt.Sprintf("%.3f", e.Sample),
			Chosen: e.Hour == c.Hour, Best: e.Hour == c.Best})
	}
	return out
}

// accountProfile is the compliance profile of the first active cadence
// covering the account's portfolio, or nil when none does.
func (o *Ops) accountProfile(ctx context.Context, acct nudge.Account) (*compliance.Profile, error) {
	cads, err := o.cfg.Cadences.Cadences(ctx, acct.Lender)
	if err != nil {
		return nil, err
	}
	for _, c := range cads {
		if c.CoversPortfolio(acct.Portfolio) {
			return o.cfg.Cadences.Profile(ctx, acct.Lender, c.Name, c.Version)
		}
	}
	return nil, nil
}
