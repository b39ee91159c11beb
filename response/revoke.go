package response

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/reply"
)

// revocation is a borrower's revocation of consent, by keyword or in their
// own words, and what to apply it to.
type revocation struct {
	// target is the account the answer is about; nil for an unknown sender.
	target *nudge.Account
	// lenders are the lenders the sender's own address is opted out for.
	lenders []string
	// channel and from are where the answer came from.
	channel nudge.ChannelKind
	from    string
	// channels are the channels revoked (reply.Result.Channels); empty
	// means channel.
	channels []nudge.ChannelKind
	cease    bool
	source   string
	body     string
	replyID  string
}

// revoke records the opt-outs of a revocation (47 CFR 64.1200(a)(10): any
// reasonable means, honoured at once) and reports whether any was new:
//
//   - the sender's own address, for every lender in r.lenders, on each
//     revoked channel it is an address of (a text's number on sms and
//     voice: "stop calling me" sent by text opts the number out of calls
//     and leaves texts allowed);
//   - each of the target account's contacts on a revoked channel other than
//     the one the answer came on ("stop emailing me" sent by text opts out
//     the account's email addresses), and on every channel for a request to
//     stop all communication.
//
// A request to stop all communication also sets a cease_communication hold
// on the target account, so that compliance suppresses every channel until
// a person reviews the account, and cancels what is queued for it.
func (h *Handler) revoke(ctx context.Context, r revocation, now time.Time) (bool, error) {
	chs := r.channels
	if r.cease {
		chs = nudge.Channels
	}
	if len(chs) == 0 {
		chs = []nudge.ChannelKind{r.channel}
	}
	type key struct {
		lender  string
		channel nudge.ChannelKind
		address string
	}
	var keys []key
	add := func(k key) {
		if k.address != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, ch := range chs {
		if r.from != "" && (ch == r.channel || (ch.IsPhone() && r.channel.IsPhone())) {
			for _, l := range r.lenders {
				add(key{l, ch, r.from})
			}
		}
		if r.target != nil && (ch != r.channel || r.cease) {
			for _, c := range r.target.ContactsFor(ch) {
				add(key{r.target.Lender, ch, c.Address})
			}
		}
	}
	fresh := false
	for _, k := range keys {
		account := ""
		if r.target != nil && r.target.Lender == k.lender {
			account = r.target.ID
		}
		// The opt-out and its event are one transaction: a crash between
		// them cannot lose the event from the feed and the webhooks.
		added, err := h.Store.AddOptOut(ctx, nudge.OptOut{Lender: k.lender, Channel: k.channel, Address: k.address,
			Source: r.source, Reason: r.body, CreatedAt: now},
			newEvent(k.lender, account, nudge.EventOptOut, "opt_out", nudge.ReasonOptedOut,
				map[string]any{"source": r.source, "channel": k.channel, "reply_id": r.replyID}, now))
		if err != nil {
			return fresh, fmt.Errorf("recording %s opt-out: %w", k.channel, err)
		}
		if added {
			fresh = true
			h.metrics().OptOut(r.source)
		}
	}
	if !r.cease || r.target == nil {
		return fresh, nil
	}
	a := r.target
	reason := fmt.Sprintf("borrower asked on %s to stop all communication (reply %s): %s", r.channel, r.replyID, r.body)
	if err := h.Store.AddHold(ctx, a.Lender, a.ID, nudge.Hold{Kind: nudge.HoldCeaseCommunication, Reason: reason}, now,
		holdEvent(*a, r.replyID, r.body, now)); err != nil {
		return fresh, fmt.Errorf("recording cease-communication request: %w", err)
	}
	if _, err := dispatcher.CancelAccount(ctx, h.Store, h.Tasks, a.Lender, a.ID, nudge.ReasonHold, now); err != nil {
		return fresh, err
	}
	return fresh, nil
}

// newEvent is an event about the lender's account (or about none, account
// ""), its detail given as a map of codes and ids, for the store to append
// in the transaction of the change it records.
func newEvent(lender, account string, kind nudge.EventKind, action string, reason nudge.Reason, detail map[string]any, now time.Time) nudge.Event {
	b, _ := json.Marshal(detail) // codes, ids and strings: always marshals
	return nudge.Event{Lender: lender, AccountID: account, Kind: kind, Action: action, Reason: reason, Detail: b, At: now}
}

// flag marks a reply a person must review first: legal threats, complaints
// and requests to stop all communication need a person, and the stored
// intent says why (nudge.ReviewIntents).
func flag(r *nudge.Reply, f reply.Flags) {
	if review := f.Review(); review != "" {
		r.Intent = review
		r.NeedsPerson = true
	}
}

// replyDetail is the detail of a reply event: what the reply meant, what it
// revoked and what a person must see first.
func replyDetail(r nudge.Reply, res reply.Result, extra map[string]any) json.RawMessage {
	d := map[string]any{"intent": res.Intent, "reply_id": r.ID, "needs_person": r.NeedsPerson, "date": res.Date, "amount": res.Amount}
	if len(res.Channels) > 0 {
		d["channels"] = res.Channels
	}
	if review := res.Flags.Review(); review != "" {
		d["review"] = review
		d["priority"] = res.Flags.Priority()
		d["flags"] = res.Flags
	}
	if res.Ambiguous {
		d["ambiguous_date"] = true
		if !res.Alternative.IsZero() {
			d["alternative"] = res.Alternative
		}
	}
	for k, v := range extra {
		d[k] = v
	}
	b, _ := json.Marshal(d)
	return b
}

// holdEvent is the timeline's record of the cease_communication hold a reply
// sets, with the reply it came from; the store appends it with the hold.
func holdEvent(a nudge.Account, replyID, body string, now time.Time) nudge.Event {
	action := "set"
	if a.HasHold(nudge.HoldCeaseCommunication) {
		action = "kept" // the lender had set it already
	}
	detail, _ := json.Marshal(map[string]string{"action": action, "kind": string(nudge.HoldCeaseCommunication),
		"by": "borrower_reply", "reply_id": replyID, "reason": "borrower asked to stop all communication: " + body})
	return nudge.Event{Lender: a.Lender, AccountID: a.ID, Kind: nudge.EventHold,
		Reason: nudge.ReasonHold, Action: action, Detail: detail, At: now}
}
