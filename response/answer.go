package response

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/reply"
)

// Opt-out sources recorded by Apply.
const (
	// SourceVoiceKeypad marks an opt-out pressed on a call's keypad ("press 9").
	SourceVoiceKeypad = "voice_keypad"
	// SourceVoiceSpeech marks an opt-out said on a call ("stop calling me").
	SourceVoiceSpeech = "voice_speech"
	// SourceWeb marks an opt-out chosen on the borrower's self-service page.
	SourceWeb = "web"
)

// Answer is a borrower's answer whose meaning is already known: a key pressed
// or a phrase said on a call, a choice on the self-service page. Unlike
// Inbound it names the account and carries the intent, so nothing is
// matched or parsed.
type Answer struct {
	// Account is the borrower's account the answer is about.
	Account nudge.Account
	// Channel is where the answer came from (voice for a call).
	Channel nudge.ChannelKind
	// Address is the borrower's address on Channel (the number called).
	Address string
	// Intent is what the answer means. Promise needs Date; opt-out, opt-in,
	// paid, wrong number, talk to a person and unknown need nothing more.
	Intent nudge.Intent
	// Date is the promised date, in the borrower's time zone.
	Date nudge.Date
	// Amount is the promised amount as a decimal string; empty means the
	// amount due.
	Amount string
	// Plan, with the promise intent, is a payment plan the borrower chose
	// (checked by the caller with payment.Check): its instalments are
	// recorded as promises sharing a plan id, and Date and Amount are unused.
	Plan *payment.Plan
	// ProviderID makes the answer idempotent: an answer with the ProviderID
	// of one already applied changes nothing (Twilio's CallSid plus the
	// conversation step, for example).
	ProviderID string
	// Body is what the borrower keyed or said, kept with the reply.
	Body string
	// Source names where an opt-out came from (SourceVoiceKeypad,
	// SourceVoiceSpeech, SourceWeb); empty means SourceVoiceKeypad on voice
	// and SourceWeb elsewhere.
	Source string
	// Channels are the channels an opt-out revokes (reply.Result.Channels
	// of what was said: "stop texting me" said on a call revokes texts);
	// empty means Channel.
	Channels []nudge.ChannelKind
	// Flags are what a person must see first (reply.Result.Flags): a
	// request to stop all communication opts out every channel and sets a
	// cease_communication hold; a legal threat or a complaint leaves the
	// answer for a person with priority.
	Flags reply.Flags
}

// Apply records and acts on an answer whose intent is known, as Handle does
// for the same intent, without rendering a confirmation (the caller speaks or
// shows its own):
//
//   - promise: records the promise, or the plan's instalments (replacing
//     what was pending), and pauses the cadence by cancelling what is queued;
//   - paid: sets the payment_claimed hold, cancels what is queued and leaves
//     the reply for a person to reconcile;
//   - opt_out: opts Address out of Channel for the account's lender, or out
//     of the Channels named (and the account's addresses on them); with
//     Flags.Cease, out of every channel, and sets a cease_communication
//     hold that a person reviews;
//   - opt_in: lifts that opt-out;
//   - wrong_number: marks Address wrong-party on the phone channels;
//   - talk_to_person, help and unknown: leave the reply for a person.
//
// Whatever the intent, Flags that call for a person (a legal threat, a
// complaint, a request to stop all communication) leave the reply for a
// person, stored under the review intent (nudge.ReviewIntents).
//
// Every write happens before it returns, so an error means the caller may
// try again; an answer whose ProviderID was applied before is reported with
// Duplicate set and changes nothing.
func (h *Handler) Apply(ctx context.Context, a Answer) (Outcome, error) {
	if err := a.validate(); err != nil {
		return Outcome{}, err
	}
	now := h.Clock.Now()
	acct := a.Account
	res := reply.Result{Intent: a.Intent, Flags: a.Flags}
	if a.Intent == nudge.IntentPromise {
		res.Date, res.Amount = a.Date, a.Amount
	}
	if a.Intent == nudge.IntentOptOut {
		res.Channels = a.Channels
	} else {
		res.Flags.Cease = false // only an opt-out stops all communication
	}
	in := Inbound{Channel: a.Channel, From: a.Address, Body: a.Body, ProviderID: a.ProviderID}
	if in.ProviderID == "" {
		in.ProviderID = fmt.Sprintf("answer|%s|%s|%s|%s|%s|%s", acct.Lender, acct.ID, a.Channel, a.Intent, a.Date, a.Amount)
	}
	r := nudge.Reply{
		ID: replyID(in), Lender: acct.Lender, AccountID: acct.ID, Channel: a.Channel, From: a.Address,
		Body: a.Body, Intent: a.Intent, ProviderID: in.ProviderID, CreatedAt: now,
	}
	out := Outcome{Parsed: res, Reply: r}
	// Act first (every action is idempotent), then record the reply, as Handle does.
	if err := h.act(ctx, a, in, &r, res, now); err != nil {
		return out, err
	}
	flag(&r, res.Flags)
	// The reply and its event are one transaction.
	detail := replyDetail(r, res, map[string]any{"channel": a.Channel, "input": a.Body})
	fresh, err := h.Store.InsertReply(ctx, r, nudge.Event{Lender: acct.Lender, AccountID: acct.ID, Kind: nudge.EventReply,
		Action: string(a.Intent), Detail: detail, At: now})
	if err != nil {
		return out, fmt.Errorf("recording %s answer: %w", a.Channel, err)
	}
	out.Reply = r
	if !fresh {
		out.Duplicate = true
	}
	return out, nil
}

// act performs the durable effect of an answer's intent.
func (h *Handler) act(ctx context.Context, a Answer, in Inbound, r *nudge.Reply, res reply.Result, now time.Time) error {
	acct := a.Account
	switch a.Intent {
	case nudge.IntentPromise:
		if a.Plan != nil {
			return h.plan(ctx, acct, in, r.ID, *a.Plan, now)
		}
		return h.promise(ctx, acct, in, r.ID, res, now)
	case nudge.IntentPaid:
		reason := fmt.Sprintf("borrower said on %s they already paid", a.Channel)
		if err := h.Store.AddHold(ctx, acct.Lender, acct.ID, nudge.Hold{Kind: nudge.HoldPaymentClaimed, Reason: reason}, now,
			newEvent(acct.Lender, acct.ID, nudge.EventPayment, "claimed", nudge.ReasonPaymentClaimed,
				map[string]any{"source": a.source(), "channel": a.Channel, "reply_id": r.ID}, now)); err != nil {
			return fmt.Errorf("recording claimed payment: %w", err)
		}
		if _, err := dispatcher.CancelAccount(ctx, h.Store, h.Tasks, acct.Lender, acct.ID, nudge.ReasonPaymentClaimed, now); err != nil {
			return err
		}
		r.NeedsPerson = true // reconcile the claimed payment
	case nudge.IntentOptOut:
		if _, err := h.revoke(ctx, revocation{target: &acct, lenders: []string{acct.Lender}, channel: a.Channel, from: a.Address,
			channels: res.Channels, cease: res.Flags.Cease, source: a.source(), body: a.Body, replyID: r.ID}, now); err != nil {
			return err
		}
	case nudge.IntentOptIn:
		if _, err := h.Store.RemoveOptOut(ctx, acct.Lender, a.Channel, a.Address, newEvent(acct.Lender, acct.ID, nudge.EventOptOut, "opt_in", "",
			map[string]any{"source": a.source(), "channel": a.Channel, "reply_id": r.ID}, now)); err != nil {
			return fmt.Errorf("recording opt-in: %w", err)
		}
	case nudge.IntentWrongNumber:
		return h.markWrongParty(ctx, []nudge.Account{acct}, a.Address)
	default:
		r.NeedsPerson = true
	}
	return nil
}

// markWrongParty marks address wrong-party on both phone channels of each
// account that lists it.
func (h *Handler) markWrongParty(ctx context.Context, accts []nudge.Account, address string) error {
	for _, acct := range accts {
		for _, ch := range []nudge.ChannelKind{nudge.SMS, nudge.Voice} {
			if err := h.Store.SetContactState(ctx, acct.Lender, acct.ID, ch, address, nudge.ContactWrongParty); err != nil && !errors.Is(err, nudge.ErrNotFound) {
				return fmt.Errorf("marking wrong number: %w", err)
			}
		}
	}
	return nil
}

func (a Answer) validate() error {
	switch {
	case a.Account.Lender == "" || a.Account.ID == "":
		return errors.New("answer: the account's lender and id are required")
	case !a.Channel.Valid():
		return fmt.Errorf("answer: unknown channel %q", a.Channel)
	case a.Address == "" && (a.Intent == nudge.IntentOptOut || a.Intent == nudge.IntentOptIn || a.Intent == nudge.IntentWrongNumber):
		return fmt.Errorf("answer: %s needs the borrower's address", a.Intent)
	case a.Intent == nudge.IntentPromise && a.Date.IsZero() && a.Plan == nil:
		return errors.New("answer: a promise needs a date or a plan")
	case a.Plan != nil && a.Intent != nudge.IntentPromise:
		return fmt.Errorf("answer: a plan is a promise, not %s", a.Intent)
	case a.Plan != nil && len(a.Plan.Instalments) < payment.MinInstalments:
		return fmt.Errorf("answer: a plan needs at least %d instalments", payment.MinInstalments)
	case a.Intent == nudge.IntentWrongNumber && !a.Channel.IsPhone():
		return fmt.Errorf("answer: a wrong number is a phone answer, not %s", a.Channel)
	}
	for _, ch := range a.Channels {
		if !ch.Valid() {
			return fmt.Errorf("answer: unknown channel %q to revoke", ch)
		}
	}
	switch a.Intent {
	case nudge.IntentOptOut, nudge.IntentOptIn, nudge.IntentHelp, nudge.IntentPromise, nudge.IntentPaid,
		nudge.IntentWrongNumber, nudge.IntentTalkToPerson, nudge.IntentUnknown:
		return nil
	}
	return fmt.Errorf("answer: unknown intent %q", a.Intent)
}

func (a Answer) source() string {
	switch {
	case a.Source != "":
		return a.Source
	case a.Channel == nudge.Voice:
		return SourceVoiceKeypad
	}
	return SourceWeb
}
