package compliance

import (
	"github.com/nudgehq/nudge"
)

// DecideTask answers whether the work item of a task step (see
// nudge.WorkItem) may be created at in.At for kind.
//
// A call_list item is a call a collector makes at once, so it is decided
// exactly as a voice call (in.Channel is set to voice; in.Address is the
// number to call): window, holds, opt-out, the contact's state and consent,
// promises, the call caps and the conversation block all apply, and it may
// defer. Every other kind (a field visit, a review, a letter) is not a
// contact on a channel: the account's status, every hold that stops any
// channel (cease-communication, bankruptcy, an attorney, a dispute, as the
// profiles say), a claimed payment and a pending promise suppress it; time
// windows and frequency caps do not apply. Decision.Explanation names the
// work item ("task") as the channel.
func DecideTask(in Input, kind string) Decision {
	if kind == nudge.WorkCallList {
		in.Channel = nudge.Voice
		return Decide(in)
	}
	p := in.Profile
	if p == nil {
		p = usProfile()
	}
	a := in.Account
	ls := layersFor(p, a)
	e := explainer{lang: p.Language, channel: nudge.Task}
	d := Decision{Profile: p.Name, Applied: ls.names()}
	pl, _ := place(ls, a, nudge.Voice) // candidate zones, for the promise date only
	d.Zones = pl.zones
	suppress := func(reason nudge.Reason, rule string, by *Profile) Decision {
		d.Action, d.Reason, d.Rule, d.DecidedBy = Suppress, reason, rule, by.Name
		d.Explanation = e.sentence(reason, Suppress)
		return d
	}
	b, claimed := blockedBy(ls, p, a, nudge.Channels...)
	if b != nil {
		e.hold = b.hold
		return suppress(b.reason, b.rule, b.by)
	}
	if claimed || in.PaymentClaimed {
		return suppress(nudge.ReasonPaymentClaimed, RulePaymentClaimed, p)
	}
	if promiseActive(in.Promise, pl.locs, in.At) {
		e.date = in.Promise.Due.String()
		return suppress(nudge.ReasonPromiseActive, RulePromise, p)
	}
	d.Action = Send
	d.Rule = RuleAccountStatus
	d.DecidedBy = p.Name
	d.Explanation = e.sentence(reasonTask, Send)
	return d
}

// reasonTask and reasonTaskSend key the explanation of an allowed work item.
const (
	reasonTask     nudge.Reason = "task"
	reasonTaskSend nudge.Reason = reasonTask + "/send"
)
