package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// importJSON is the answer to an account import.
type importJSON struct {
	Imported int           `json:"imported"`
	Rejected int           `json:"rejected"`
	Problems []problemJSON `json:"problems,omitempty"`
}

func boolParam(c *call, name string) (bool, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, "query parameter %s=%q: want true or false", name, v)
	}
	return b, nil
}

// accountRowWriter writes an import's accounts in one transaction,
// isolating the accounts the database refuses; *store.DB is one.
type accountRowWriter interface {
	UpsertAccountsEach(ctx context.Context, accounts []nudge.Account, now time.Time, keepGood bool) ([]store.RefusedAccount, error)
}

var _ accountRowWriter = (*store.DB)(nil)

// importAccounts upserts a file of accounts: all or nothing, or with
// ?partial=true the good rows. Every problem names its row: a row that
// cannot be read or fails validation answers 400, a row the database
// refuses 422; with partial=true both are reported beside what was written.
func (a *API) importAccounts(c *call) error {
	partial, err := boolParam(c, "partial")
	if err != nil {
		return err
	}
	rows, ps, enc, err := importBody.parse(c)
	if err != nil {
		return err
	}
	rejected := map[int]bool{}
	for _, p := range ps {
		if p.Row <= 0 {
			return &apiError{status: http.StatusBadRequest, msg: "the file cannot be read", problems: problemsOf(ps)}
		}
		rejected[p.Row] = true
	}
	switch {
	case len(rows) == 0 && len(ps) == 0:
		return errorf(http.StatusBadRequest, "no accounts: the input holds none")
	case len(ps) > 0 && (!partial || len(rows) == 0):
		return &apiError{status: http.StatusBadRequest, msg: nothingImported("have problems", len(rejected), partial), problems: problemsOf(ps)}
	}
	imported, refused, err := a.writeAccounts(c, rows, partial)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		for _, p := range refused {
			rejected[p.Row] = true
		}
		ps = append(ps, refused...)
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Row < ps[j].Row })
		if imported == 0 {
			return &apiError{status: http.StatusUnprocessableEntity, msg: nothingImported("were refused by the database", len(refused), partial), problems: problemsOf(ps)}
		}
	}
	detail := map[string]any{"imported": imported, "rejected": len(rejected), "format": c.r.Header.Get("Content-Type")}
	if enc != "" {
		detail["encoding"] = enc
	}
	if err := a.audit(c, "accounts.import", fmt.Sprintf("%d accounts", imported), detail); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, importJSON{Imported: imported, Rejected: len(rejected), Problems: problemsOf(ps)})
	return nil
}

// writeAccounts upserts the rows, all or (with partial) the good ones, and
// returns how many were written and the rows the database refused.
func (a *API) writeAccounts(c *call, rows []account.Parsed, partial bool) (int, account.Problems, error) {
	accts := make([]nudge.Account, len(rows))
	for i, r := range rows {
		accts[i] = r.Account
	}
	w, ok := a.Store.(accountRowWriter)
	if !ok {
		if err := a.Store.UpsertAccounts(c.ctx, accts, a.now()); err != nil {
			return 0, nil, fmt.Errorf("import %d accounts: %w", len(accts), err)
		}
		return len(accts), nil, nil
	}
	refused, err := w.UpsertAccountsEach(c.ctx, accts, a.now(), partial)
	if err != nil {
		return 0, nil, fmt.Errorf("import %d accounts: %w", len(accts), err)
	}
	ps := make(account.Problems, len(refused))
	for i, r := range refused {
		ps[i] = account.Problem{Row: rows[r.Index].Row, Field: r.Field, Message: "the database refused the account: " + r.Message}
	}
	if len(refused) > 0 && !partial {
		return 0, ps, nil
	}
	return len(accts) - len(refused), ps, nil
}

// nothingImported is the message of an import that wrote nothing because
// rows had problems; the problems name each row.
func nothingImported(what string, rows int, partial bool) string {
	msg := fmt.Sprintf("%d row(s) %s; nothing was imported", rows, what)
	if !partial {
		msg += " (add ?partial=true to import the good rows)"
	}
	return msg
}

// timelineJSON is an account with everything that happened to it.
type timelineJSON struct {
	Account  nudge.Account `json:"account"`
	Timeline struct {
		Reminders []reminderJSON `json:"reminders"`
		Decisions []eventJSON    `json:"decisions"`
		Attempts  []attemptJSON  `json:"attempts"`
		Callbacks []eventJSON    `json:"callbacks"`
		Replies   []replyJSON    `json:"replies"`
		Promises  []promiseJSON  `json:"promises"`
		Events    []eventJSON    `json:"events"`
	} `json:"timeline"`
}

func (a *API) getAccount(c *call) error {
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	lender, id := c.lender(), acct.ID
	var out timelineJSON
	out.Account = acct
	rs, err := a.Store.ListReminders(c.ctx, lender, id)
	if err != nil {
		return err
	}
	atts, err := a.Store.AttemptHistory(c.ctx, lender, id, time.Time{})
	if err != nil {
		return err
	}
	reps, err := a.Store.AccountReplies(c.ctx, lender, id)
	if err != nil {
		return err
	}
	prs, err := a.Store.ListPromises(c.ctx, lender, id)
	if err != nil {
		return err
	}
	evs, err := a.Store.Events(c.ctx, lender, id)
	if err != nil {
		return err
	}
	t := &out.Timeline
	t.Reminders = mapSlice(rs, reminderView)
	t.Attempts = mapSlice(atts, attemptView)
	t.Replies = mapSlice(reps, replyView)
	t.Promises = mapSlice(prs, promiseView)
	t.Events = mapSlice(evs, eventView)
	t.Decisions = mapSlice(slices.DeleteFunc(slices.Clone(evs), func(e nudge.Event) bool { return e.Kind != nudge.EventDecision }), eventView)
	t.Callbacks = mapSlice(slices.DeleteFunc(slices.Clone(evs), func(e nudge.Event) bool { return e.Kind != nudge.EventCallback }), eventView)
	web.WriteJSON(c.w, http.StatusOK, out)
	return nil
}

// amountPattern matches a decimal amount written as a string.
var amountPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$`)

type holdRequest struct {
	Kind   nudge.HoldKind `json:"kind"`
	Reason string         `json:"reason"`
}

// setHold sets a hold and cancels what is queued for the account.
func (a *API) setHold(c *call) error {
	var req holdRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var ps []problemJSON
	if !req.Kind.Valid() {
		ps = append(ps, problemJSON{Field: "kind", Message: fmt.Sprintf("%q is not a hold (want dispute, bankruptcy, cease_communication, deceased, attorney or hardship)", req.Kind)})
	}
	if req.Reason = strings.TrimSpace(req.Reason); req.Reason == "" {
		ps = append(ps, problemJSON{Field: "reason", Message: "is required"})
	}
	if len(ps) > 0 {
		return &apiError{status: http.StatusBadRequest, msg: "invalid hold", problems: ps}
	}
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	lender, now := c.lender(), a.now()
	detail := map[string]string{"action": "set", "kind": string(req.Kind), "reason": req.Reason}
	// The hold and its event are one transaction.
	if err := a.Store.AddHold(c.ctx, lender, acct.ID, nudge.Hold{Kind: req.Kind, Reason: req.Reason}, now,
		a.newEvent(c, acct.ID, nudge.EventHold, nudge.ReasonHold, detail)); err != nil {
		return err
	}
	n, err := dispatcher.CancelAccount(c.ctx, a.Store, a.Tasks, lender, acct.ID, nudge.ReasonHold, now)
	if err != nil {
		return err
	}
	if err := a.audit(c, "hold.set", acct.ID, detail); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"account_id": acct.ID, "kind": req.Kind, "canceled": n})
	return nil
}

// reasonParam reads the required reason of a removal from ?reason= or a
// JSON body {"reason": "..."}.
func reasonParam(c *call) (string, error) {
	reason := strings.TrimSpace(c.r.URL.Query().Get("reason"))
	if reason == "" && c.r.ContentLength != 0 && c.r.Body != nil && c.r.Body != http.NoBody {
		var body struct {
			Reason string `json:"reason"`
		}
		if err := decodeBody(c, &body); err != nil {
			return "", err
		}
		reason = strings.TrimSpace(body.Reason)
	}
	if reason == "" {
		return "", &apiError{status: http.StatusBadRequest, msg: "a reason is required",
			problems: []problemJSON{{Field: "reason", Message: "is required (?reason= or a JSON body)"}}}
	}
	return reason, nil
}

// clearHold clears a hold (a payment_claimed hold too, after
// reconciliation) and has the planner look at the account again.
func (a *API) clearHold(c *call) error {
	kind := nudge.HoldKind(c.r.PathValue("kind"))
	if !kind.Valid() && kind != nudge.HoldPaymentClaimed {
		return &apiError{status: http.StatusBadRequest, msg: "invalid hold",
			problems: []problemJSON{{Field: "kind", Message: fmt.Sprintf("%q is not a hold kind", kind)}}}
	}
	reason, err := reasonParam(c)
	if err != nil {
		return err
	}
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	if !acct.HasHold(kind) {
		return errorf(http.StatusNotFound, "account %s has no %s hold", acct.ID, kind)
	}
	lender, now := c.lender(), a.now()
	detail := map[string]string{"action": "clear", "kind": string(kind), "reason": reason}
	// The clearing and its event are one transaction.
	if err := a.Store.ClearHold(c.ctx, lender, acct.ID, kind, now, a.newEvent(c, acct.ID, nudge.EventHold, "", detail)); err != nil {
		return err
	}
	if err := a.Store.SetNextAction(c.ctx, lender, acct.ID, now); err != nil {
		return err
	}
	if err := a.audit(c, "hold.clear", acct.ID, detail); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"account_id": acct.ID, "kind": kind, "cleared": true})
	return nil
}

// explain answers the compliance decision for the account on a channel now,
// from the same facts the worker uses at send time.
func (a *API) explain(c *call) error {
	q := c.r.URL.Query()
	ch, err := nudge.ParseChannel(q.Get("channel"))
	if err != nil {
		return &apiError{status: http.StatusBadRequest, msg: "invalid channel",
			problems: []problemJSON{{Field: "channel", Message: err.Error()}}}
	}
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	lender, now := c.lender(), a.now()
	address := strings.TrimSpace(q.Get("address"))
	if address == "" {
		if cs := acct.ContactsFor(ch); len(cs) > 0 {
			address = cs[0].Address
		}
	} else if ch.IsPhone() {
		if address, err = account.NormalizePhone(address, ""); err != nil {
			return &apiError{status: http.StatusBadRequest, msg: "invalid address",
				problems: []problemJSON{{Field: "address", Message: err.Error()}}}
		}
	}
	profile, err := a.profileFor(c, acct)
	if err != nil {
		return err
	}
	window := a.HistoryWindow
	if window <= 0 {
		window = dispatcher.DefaultHistoryWindow
	}
	history, err := a.Store.AttemptHistory(c.ctx, lender, acct.ID, now.Add(-window))
	if err != nil {
		return err
	}
	in := compliance.Input{Account: acct, Channel: ch, Address: address, At: now, History: history,
		PaymentClaimed: acct.HasHold(nudge.HoldPaymentClaimed), Profile: profile}
	if address != "" {
		if in.OptedOut, err = a.Store.IsOptedOut(c.ctx, lender, ch, address); err != nil {
			return err
		}
	}
	pr, err := a.Store.ActivePromise(c.ctx, lender, acct.ID)
	switch {
	case err == nil:
		in.Promise = &pr
	case !errors.Is(err, nudge.ErrNotFound):
		return err
	}
	d := compliance.Decide(in)
	web.WriteJSON(c.w, http.StatusOK, map[string]any{
		"account_id": acct.ID, "channel": ch, "address": address, "at": now.UTC().Format(time.RFC3339), "decision": d,
	})
	return nil
}

// profileFor is the compliance profile of the first active cadence covering
// the account's portfolio, or the built-in one of its country.
func (a *API) profileFor(c *call, acct nudge.Account) (*compliance.Profile, error) {
	if a.Cadences != nil {
		cads, err := a.Cadences.Cadences(c.ctx, acct.Lender)
		if err != nil {
			return nil, err
		}
		for _, cad := range cads {
			if cad.CoversPortfolio(acct.Portfolio) {
				return a.registry().Lookup(cad.Profile)
			}
		}
	}
	return a.registry().Lookup(compliance.DefaultProfileName(acct))
}

func (a *API) registry() *compliance.Registry {
	if a.Profiles == nil {
		return compliance.NewRegistry()
	}
	return a.Profiles
}
