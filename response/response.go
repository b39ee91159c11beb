// Package response acts on what borrowers answer: an inbound SMS today, and
// keypad input and web forms through the same path. It matches the answer to
// the borrower, understands it with package reply, records it durably (opt-out,
// opt-in, promise to pay, a claimed payment, a wrong number, or a reply that
// needs a person), changes what is sent next (cancelling queued reminders,
// pausing the cadence) and renders the one confirmation the borrower gets, in
// their language.
//
// Revocations are honoured on the channels the borrower names, whatever
// channel they used ("stop calling me" by text opts the number out of calls
// and leaves texts allowed). A request to stop all communication opts out
// every channel and address of the account, sets a cease_communication hold
// (compliance then suppresses every channel until a person clears it) and
// leaves the reply for a person; legal threats and complaints are left for a
// person first, under the intents of nudge.ReviewIntents. A numeric date
// that reads two ways and is past the borrower's way is asked back, never
// recorded as a promise.
package response

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/metrics"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/templates"
)

// Opt-out sources recorded by this package.
const (
	SourceSMSKeyword = "sms_keyword"
	SourceSMSText    = "sms_text"
	// SourceEmailKeyword and SourceEmailText mark opt-outs written in an
	// email reply, as a keyword ("STOP") or in words.
	SourceEmailKeyword = "email_keyword"
	SourceEmailText    = "email_text"
)

// Store is the part of the store the Handler uses.
type Store interface {
	dispatcher.ReminderCanceler
	AccountsByAddress(ctx context.Context, channel nudge.ChannelKind, address string) ([]nudge.Account, error)
	ListLenders(ctx context.Context) ([]nudge.Lender, error)
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	InsertReply(ctx context.Context, r nudge.Reply, events ...nudge.Event) (bool, error)
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	RemoveOptOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string, events ...nudge.Event) (bool, error)
	InsertPromise(ctx context.Context, p nudge.Promise, events ...nudge.Event) error
	InsertPlan(ctx context.Context, instalments []nudge.Promise, events ...nudge.Event) error
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error
	SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error
	AddHold(ctx context.Context, lender, id string, h nudge.Hold, now time.Time, events ...nudge.Event) error
}

// ErrUnmatched is Handle's error for an answer naming an account
// (Inbound.AccountID) that has no contact at its From address any more:
// nothing is recorded.
var ErrUnmatched = errors.New("response: the account has no contact at the sender's address")

// Handler turns inbound answers into records, actions and confirmations.
type Handler struct {
	Store Store
	// Tasks removes cancelled reminders from the queues.
	Tasks dispatcher.TaskCanceler
	Pack  *templates.Pack
	// Profile gives the compliance profile of an account (its cadence's).
	Profile func(ctx context.Context, a nudge.Account) (*compliance.Profile, error)
	Clock   nudge.Clock
	Logger  *slog.Logger
	// Metrics counts new promises and opt-outs; nil counts nothing.
	Metrics metrics.Recorder
}

// Inbound is one answer as it arrived.
type Inbound struct {
	Channel nudge.ChannelKind
	// From is the borrower's address; To is ours.
	From, To string
	Body     string
	// ProviderID de-duplicates provider retries (Twilio's MessageSid, an
	// email's Message-Id).
	ProviderID string
	// Lender and AccountID, when set, name the account the answer is
	// about, as the route already knows it (an email reply's token): only
	// that account is matched, and From must be one of its addresses on
	// Channel. Unset, the answer is matched by From across lenders.
	Lender, AccountID string
	// ProviderConfirmed is true when the provider has already answered an
	// opt-out or opt-in keyword itself (Twilio Advanced Opt-Out), so Nudge
	// must not confirm it a second time.
	ProviderConfirmed bool
}

// Outcome is what Handle did.
type Outcome struct {
	Reply  nudge.Reply
	Parsed reply.Result
	// Confirmation is the text to answer with, or empty for none.
	Confirmation string
	// Duplicate is true when the answer had been handled before (a provider retry).
	Duplicate bool
}

// Handle understands and acts on one answer. Every durable write happens
// before it returns, so an error means the provider should try again; a
// retried answer is recognised by its ProviderID and confirmed only once.
func (h *Handler) Handle(ctx context.Context, in Inbound) (Outcome, error) {
	now := h.Clock.Now()
	accts, err := h.accountsFor(ctx, in)
	if err != nil {
		return Outcome{}, err
	}
	if in.AccountID != "" && len(accts) == 0 {
		return Outcome{}, fmt.Errorf("answer for account %s/%s: %w", in.Lender, in.AccountID, ErrUnmatched)
	}
	target, err := h.mostRecent(ctx, accts, in.From)
	if err != nil {
		return Outcome{}, err
	}
	var (
		rc      reply.Context
		profile *compliance.Profile
	)
	if target != nil {
		if profile, err = h.Profile(ctx, *target); err != nil {
			return Outcome{}, err
		}
		rc = reply.Context{
			Now: now, Location: compliance.PrimaryLocationOf(*target, profile), Language: target.Borrower.Language,
			AmountDue: target.AmountDue, Currency: target.Currency, MaxPromiseDays: profile.MaxPromiseDays,
			Channel: in.Channel,
		}
		if target.Address != nil {
			rc.Country = target.Address.Country
		}
		if rc.Menu, err = h.menuFor(ctx, *target, in); err != nil {
			return Outcome{}, err
		}
	} else {
		rc = reply.Context{Now: now, Location: time.UTC, Channel: in.Channel}
	}
	res := reply.Parse(in.Body, rc)
	out := Outcome{Parsed: res}
	r := nudge.Reply{
		ID: replyID(in), Channel: in.Channel, From: in.From, To: in.To, Body: in.Body,
		Intent: res.Intent, ProviderID: in.ProviderID, CreatedAt: now,
	}
	if target != nil {
		r.Lender, r.AccountID = target.Lender, target.ID
	} else {
		// No account has the sender's address: keep the reply under the
		// first lender (by id) so that a person sees it, since the store
		// records every reply under a lender. With no lender at all there
		// is nobody to record it for, nor anyone to opt out of.
		lenders, err := h.lendersFor(ctx, nil)
		if err != nil {
			return out, err
		}
		if len(lenders) == 0 {
			return out, nil
		}
		r.Lender = lenders[0]
	}

	// Act first (every action is idempotent), then record the reply: a
	// provider retry after a failed write acts again, and a retry after
	// success finds the reply and confirms nothing.
	var confirm string
	var data templates.Data
	switch {
	case res.Intent == nudge.IntentOptOut:
		lenders, err := h.lendersFor(ctx, accts)
		if err != nil {
			return out, err
		}
		source := textSource(in.Channel, res.Keyword != "")
		fresh, err := h.revoke(ctx, revocation{target: target, lenders: lenders, channel: in.Channel, from: in.From,
			channels: res.Channels, cease: res.Flags.Cease, source: source, body: in.Body, replyID: r.ID}, now)
		if err != nil {
			return out, err
		}
		if fresh && !in.ProviderConfirmed {
			confirm, data = optOutConfirmation(in.Channel, res.Channels)
		}
	case res.Intent == nudge.IntentOptIn:
		lenders, err := h.lendersFor(ctx, accts)
		if err != nil {
			return out, err
		}
		for _, l := range lenders {
			account := ""
			if target != nil && target.Lender == l {
				account = target.ID
			}
			if _, err := h.Store.RemoveOptOut(ctx, l, in.Channel, in.From, newEvent(l, account, nudge.EventOptOut, "opt_in", "",
				map[string]any{"source": string(in.Channel) + "_reply", "channel": in.Channel, "reply_id": r.ID}, now)); err != nil {
				return out, fmt.Errorf("recording opt-in: %w", err)
			}
		}
		if !in.ProviderConfirmed {
			confirm = "optin_confirm_sms"
		}
	case target == nil:
		// Nobody to act for: keep the reply for a person.
		r.NeedsPerson = true
	case res.Intent == nudge.IntentHelp:
		confirm = "help_sms"
	case res.Intent == nudge.IntentPromise && res.TooFar:
		confirm = "promise_too_far_sms"
		data.PromiseDate = nudge.DateOf(now.In(rc.Location)).AddDays(maxDays(profile))
	case res.Intent == nudge.IntentPromise:
		if err := h.promise(ctx, *target, in, r.ID, res, now); err != nil {
			return out, err
		}
		confirm = "promise_confirm_sms"
		data.PromiseDate, data.PromiseAmount = res.Date, res.Amount
	case res.Intent == nudge.IntentPaid:
		if err := h.Store.AddHold(ctx, target.Lender, target.ID, nudge.Hold{Kind: nudge.HoldPaymentClaimed, Reason: "borrower said: " + in.Body}, now,
			newEvent(target.Lender, target.ID, nudge.EventPayment, "claimed", nudge.ReasonPaymentClaimed,
				map[string]any{"source": string(in.Channel) + "_reply", "channel": in.Channel, "reply_id": r.ID}, now)); err != nil {
			return out, fmt.Errorf("recording claimed payment: %w", err)
		}
		if _, err := dispatcher.CancelAccount(ctx, h.Store, h.Tasks, target.Lender, target.ID, nudge.ReasonPaymentClaimed, now); err != nil {
			return out, err
		}
		r.NeedsPerson = true // reconcile the claimed payment
		confirm = "paid_confirm_sms"
	case res.Ambiguous:
		// "pago el 12/05" read as 12 May, already past: ask which date was
		// meant, offering the other reading, rather than record a promise.
		confirm = DateConfirmSMS
		data.PromiseDate = res.Alternative
	case res.Intent == nudge.IntentWrongNumber:
		for _, a := range accts {
			for _, ch := range []nudge.ChannelKind{nudge.SMS, nudge.Voice} {
				if err := h.Store.SetContactState(ctx, a.Lender, a.ID, ch, in.From, nudge.ContactWrongParty); err != nil && !errors.Is(err, nudge.ErrNotFound) {
					return out, fmt.Errorf("marking wrong number: %w", err)
				}
			}
		}
		confirm = templates.WrongNumberSMS
	default:
		r.NeedsPerson = true
	}
	flag(&r, res.Flags)

	// The reply and its event are one transaction.
	var events []nudge.Event
	if target != nil {
		events = append(events, nudge.Event{Lender: target.Lender, AccountID: target.ID, Kind: nudge.EventReply,
			Action: string(res.Intent), Detail: replyDetail(r, res, nil), At: now})
	}
	fresh, err := h.Store.InsertReply(ctx, r, events...)
	if err != nil {
		return out, fmt.Errorf("recording reply: %w", err)
	}
	out.Reply = r
	if !fresh {
		out.Duplicate = true
		return out, nil
	}
	if confirm == "" {
		return out, nil
	}
	if target == nil {
		// An opt-out or opt-in from a number we don't know: confirm in English
		// without naming anyone.
		target = &nudge.Account{Borrower: nudge.Borrower{Language: res.Language}}
	}
	text, err := h.render(ctx, confirm, *target, profile, data, rc.Location, res.Language)
	if err != nil {
		h.logger().Error("rendering confirmation", "template", confirm, "err", err)
		return out, nil // the answer is recorded; a missing confirmation must not make the provider retry
	}
	out.Confirmation = text
	return out, nil
}

// promise records a promise to pay, replacing every pending promise or
// plan instalment, and pauses the cadence by cancelling what is queued.
func (h *Handler) promise(ctx context.Context, a nudge.Account, in Inbound, replyID string, res reply.Result, now time.Time) error {
	return h.recordPromise(ctx, a, in.Channel, "prm_"+replyID, replyID, res.Amount, res.Date, now)
}

// recordPromise is promise for a promise with id (derived from what
// recorded it, so a retry finds it), made on channel, in answer to reply
// replyID (empty when no reply carried it).
func (h *Handler) recordPromise(ctx context.Context, a nudge.Account, channel nudge.ChannelKind, id, replyID, amount string, due nudge.Date, now time.Time) error {
	// A pending promise with this id is a retry of this very answer: keep
	// it, and finish below what the first try may have left undone.
	if err := h.replacePending(ctx, a, func(p nudge.Promise) bool { return p.ID == id }, now); err != nil {
		return err
	}
	p := nudge.Promise{
		ID: id, Lender: a.Lender, AccountID: a.ID, Amount: amount, Currency: a.Currency,
		Due: due, Status: nudge.PromisePending, Channel: channel, ReplyID: replyID, CreatedAt: now, UpdatedAt: now,
	}
	if p.Amount == "" {
		p.Amount = a.AmountDue
	}
	detail, _ := json.Marshal(map[string]any{"promise_id": p.ID, "due": p.Due, "amount": p.Amount, "status": p.Status})
	switch err := h.Store.InsertPromise(ctx, p, nudge.Event{Lender: a.Lender, AccountID: a.ID, Kind: nudge.EventPromise,
		Action: string(nudge.PromisePending), Detail: detail, At: now}); {
	case errors.Is(err, nudge.ErrConflict):
		// Recorded (with its event) by an earlier try of this answer.
	case err != nil:
		return fmt.Errorf("recording promise: %w", err)
	default:
		h.metrics().Promise(nudge.PromisePending)
	}
	_, err := dispatcher.CancelAccount(ctx, h.Store, h.Tasks, a.Lender, a.ID, nudge.ReasonPromiseActive, now)
	return err
}

// replacePending cancels the account's pending promises and plan
// instalments but those keep says to keep: a new promise or plan replaces
// what the borrower promised before.
func (h *Handler) replacePending(ctx context.Context, a nudge.Account, keep func(nudge.Promise) bool, now time.Time) error {
	ps, err := h.Store.ListPromises(ctx, a.Lender, a.ID)
	if err != nil {
		return err
	}
	for _, old := range ps {
		if old.Status != nudge.PromisePending || keep(old) {
			continue
		}
		if err := h.Store.SetPromiseStatus(ctx, old.ID, nudge.PromiseCanceled, now); err != nil && !errors.Is(err, nudge.ErrConflict) {
			return err
		}
	}
	return nil
}

// textSource names the source of an opt-out written on channel.
func textSource(channel nudge.ChannelKind, keyword bool) string {
	switch {
	case channel == nudge.Email && keyword:
		return SourceEmailKeyword
	case channel == nudge.Email:
		return SourceEmailText
	case keyword:
		return SourceSMSKeyword
	}
	return SourceSMSText
}

// accountsFor finds the accounts with a contact at the sender's address
// (only the account in names, when it names one).
func (h *Handler) accountsFor(ctx context.Context, in Inbound) ([]nudge.Account, error) {
	var out []nudge.Account
	seen := map[string]bool{}
	for _, ch := range []nudge.ChannelKind{in.Channel, nudge.Voice, nudge.SMS} {
		as, err := h.Store.AccountsByAddress(ctx, ch, in.From)
		if err != nil {
			return nil, fmt.Errorf("matching %s: %w", ch, err)
		}
		for _, a := range as {
			if in.AccountID != "" && (a.Lender != in.Lender || a.ID != in.AccountID) {
				continue
			}
			if k := a.Lender + "/" + a.ID; !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// mostRecent picks the account the answer is about: the one most recently
// contacted at the address, else the first.
func (h *Handler) mostRecent(ctx context.Context, accts []nudge.Account, address string) (*nudge.Account, error) {
	var best *nudge.Account
	var bestAt time.Time
	for i := range accts {
		hist, err := h.Store.AttemptHistory(ctx, accts[i].Lender, accts[i].ID, h.Clock.Now().AddDate(0, 0, -60))
		if err != nil {
			return nil, err
		}
		for _, at := range hist {
			if at.Address == address && !at.CreatedAt.Before(bestAt) {
				best, bestAt = &accts[i], at.CreatedAt
			}
		}
	}
	if best == nil && len(accts) > 0 {
		best = &accts[0]
	}
	return best, nil
}

// lendersFor are the lenders an opt-out applies to: those of the matched
// accounts, or every lender when the number is unknown (honour STOP at once).
func (h *Handler) lendersFor(ctx context.Context, accts []nudge.Account) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, a := range accts {
		if !seen[a.Lender] {
			seen[a.Lender] = true
			out = append(out, a.Lender)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	ls, err := h.Store.ListLenders(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out, nil
}

// render renders a confirmation in the borrower's language.
func (h *Handler) render(ctx context.Context, name string, a nudge.Account, profile *compliance.Profile, extra templates.Data, loc *time.Location, detected string) (string, error) {
	var lender nudge.Lender
	if a.Lender != "" {
		l, err := h.Store.GetLender(ctx, a.Lender)
		if err != nil && !errors.Is(err, nudge.ErrNotFound) {
			return "", err
		}
		lender = l
	}
	name0 := lender.Name
	if name0 == "" {
		name0 = a.Lender
	}
	if loc == nil {
		loc = time.UTC
	}
	d := templates.DataFor(a, name0, nudge.DateOf(h.Clock.Now().In(loc)))
	d.HelpPhone, d.AgentPhone = lender.HelpPhone, lender.AgentPhone
	if profile != nil {
		d.Disclosure = profile.Discloses()
	}
	if !extra.PromiseDate.IsZero() || name == DateConfirmSMS {
		// The date asked back is the other reading or nothing, never the
		// date DataFor offers.
		d.PromiseDate = extra.PromiseDate
	}
	if extra.PromiseAmount != "" {
		d.PromiseAmount = extra.PromiseAmount
	}
	if extra.Extra != nil {
		d.Extra = extra.Extra
	}
	lang := a.Borrower.Language
	if lang == "" {
		lang = detected
	}
	pack, err := h.packFor(name)
	if err != nil {
		return "", err
	}
	out, err := pack.Render(name, nudge.SMS, templates.Locales(lang, lender.Language), d)
	if err != nil {
		return "", err
	}
	return out.Text, nil
}

func (h *Handler) metrics() metrics.Recorder {
	if h.Metrics == nil {
		return metrics.Nop{}
	}
	return h.Metrics
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func maxDays(p *compliance.Profile) int {
	if p == nil || p.MaxPromiseDays <= 0 {
		return reply.DefaultMaxPromiseDays
	}
	return p.MaxPromiseDays
}

// replyID is derived from the provider's id, so a retried answer has the same id.
func replyID(in Inbound) string {
	key := in.ProviderID
	if key == "" {
		key = fmt.Sprintf("%s|%s|%s|%s", in.Channel, in.From, in.To, in.Body)
	}
	sum := sha256.Sum256([]byte(key))
	return "rep_" + hex.EncodeToString(sum[:12])
}
