package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// pageJSON is one page of a list; NextCursor is absent on the last page.
type pageJSON[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

type cursorJSON struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// EncodeCursor returns the opaque cursor of a page's last record.
func EncodeCursor(c store.Cursor) string {
	b, _ := json.Marshal(cursorJSON{At: c.At.UTC(), ID: c.ID}) // a struct of a time and a string always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (store.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, fmt.Errorf("cursor %q is not one this API returned", s)
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return store.Cursor{}, fmt.Errorf("cursor %q is not one this API returned", s)
	}
	return store.Cursor{At: c.At, ID: c.ID}, nil
}

// listQuery is what every list reads from the query string.
type listQuery struct {
	account string
	after   store.Cursor
	limit   int
}

func badParam(name, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "invalid query parameter " + name,
		problems: []problemJSON{{Field: name, Message: fmt.Sprintf(format, args...)}}}
}

// readList reads cursor, limit and account, checking that the account is
// the lender's (another lender's account is not found).
func (a *API) readList(c *call) (listQuery, error) {
	q := c.r.URL.Query()
	lq := listQuery{account: q.Get("account")}
	var err error
	if lq.limit, err = limitParam(q); err != nil {
		return lq, err
	}
	if v := q.Get("cursor"); v != "" {
		cur, err := DecodeCursor(v)
		if err != nil {
			return lq, badParam("cursor", "%v", err)
		}
		lq.after = cur
	}
	if lq.account != "" {
		if _, err := a.Store.GetAccount(c.ctx, c.lender(), lq.account); err != nil {
			return lq, err
		}
	}
	return lq, nil
}

// limitParam reads the page size from the query's limit (DefaultPageSize
// when absent).
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, badParam("limit", "%q is not a number from 1 to %d", v, MaxPageSize)
	}
	return n, nil
}

func channelParam(c *call) (nudge.ChannelKind, error) {
	v := c.r.URL.Query().Get("channel")
	if v == "" {
		return "", nil
	}
	ch, err := nudge.ParseChannel(v)
	if err != nil {
		return "", badParam("channel", "%v", err)
	}
	return ch, nil
}

func enumParam(c *call, name string, allowed ...string) (string, error) {
	v := c.r.URL.Query().Get(name)
	if v != "" && !slices.Contains(allowed, v) {
		return "", badParam(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return v, nil
}

func timeParam(c *call, name string) (time.Time, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badParam(name, "%q is not an RFC 3339 instant like 2026-06-01T00:00:00Z", v)
	}
	return t.UTC(), nil
}

// writePage answers one page; rows holds up to limit+1 records, the extra
// one telling that another page follows.
func writePage[R, J any](c *call, rows []R, limit int, view func(R) J, cursor func(R) store.Cursor) {
	out := pageJSON[J]{}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = EncodeCursor(cursor(rows[len(rows)-1]))
	}
	out.Data = mapSlice(rows, view)
	web.WriteJSON(c.w, http.StatusOK, out)
}

var reminderStatuses = []string{"planned", "queued", "deferred", "sent", "suppressed", "expired", "canceled", "failed", "unknown"}

func (a *API) listReminders(c *call) error {
	lq, err := a.readList(c)
	if err != nil {
		return err
	}
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	status, err := enumParam(c, "status", reminderStatuses...)
	if err != nil {
		return err
	}
	rows, err := a.Store.PageReminders(c.ctx, store.ReminderQuery{Lender: c.lender(), AccountID: lq.account,
		Status: nudge.ReminderStatus(status), Channel: ch, After: lq.after, Limit: lq.limit + 1})
	if err != nil {
		return err
	}
	writePage(c, rows, lq.limit, reminderView, func(r nudge.Reminder) store.Cursor { return store.Cursor{At: r.DueAt, ID: r.ID} })
	return nil
}

var attemptStatuses = []string{"claimed", "sending", "retrying", "sent", "delivered", "undelivered", "failed", "unknown",
	"ringing", "in-progress", "completed", "busy", "no-answer", "canceled"}

func (a *API) listAttempts(c *call) error {
	lq, err := a.readList(c)
	if err != nil {
		return err
	}
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	status, err := enumParam(c, "status", attemptStatuses...)
	if err != nil {
		return err
	}
	since, err := timeParam(c, "since")
	if err != nil {
		return err
	}
	until, err := timeParam(c, "until")
	if err != nil {
		return err
	}
	rows, err := a.Store.PageAttempts(c.ctx, store.AttemptQuery{Lender: c.lender(), AccountID: lq.account,
		Status: nudge.AttemptStatus(status), Channel: ch, Since: since, Until: until, After: lq.after, Limit: lq.limit + 1})
	if err != nil {
		return err
	}
	writePage(c, rows, lq.limit, attemptView, func(r nudge.Attempt) store.Cursor { return store.Cursor{At: r.CreatedAt, ID: r.ID} })
	return nil
}

func (a *API) listPromises(c *call) error {
	lq, err := a.readList(c)
	if err != nil {
		return err
	}
	status, err := enumParam(c, "status", "pending", "kept", "broken", "canceled")
	if err != nil {
		return err
	}
	rows, err := a.Store.PagePromises(c.ctx, store.PromiseQuery{Lender: c.lender(), AccountID: lq.account,
		Status: nudge.PromiseStatus(status), After: lq.after, Limit: lq.limit + 1})
	if err != nil {
		return err
	}
	writePage(c, rows, lq.limit, promiseView, func(r nudge.Promise) store.Cursor { return store.Cursor{At: r.CreatedAt, ID: r.ID} })
	return nil
}

func (a *API) listOptOuts(c *call) error {
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	all, err := a.Store.ListOptOuts(c.ctx, c.lender())
	if err != nil {
		return err
	}
	if ch != "" {
		all = slices.DeleteFunc(all, func(o nudge.OptOut) bool { return o.Channel != ch })
	}
	web.WriteJSON(c.w, http.StatusOK, pageJSON[optOutJSON]{Data: mapSlice(all, optOutView)})
	return nil
}

type optOutRequest struct {
	Channel nudge.ChannelKind `json:"channel"`
	Address string            `json:"address"`
	Reason  string            `json:"reason"`
}

// normalizeAddress checks an opt-out address: E.164 for phones, an email
// address otherwise.
func normalizeAddress(ch nudge.ChannelKind, address string) (string, error) {
	address = strings.TrimSpace(address)
	if address == "" {
		return "", fmt.Errorf("is required")
	}
	if ch.IsPhone() {
		return account.NormalizePhone(address, "")
	}
	if !strings.Contains(address, "@") {
		return "", fmt.Errorf("%q is not an email address", address)
	}
	return strings.ToLower(address), nil
}

func (a *API) addOptOut(c *call) error {
	var req optOutRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var ps []problemJSON
	if !req.Channel.Valid() {
		ps = append(ps, problemJSON{Field: "channel", Message: fmt.Sprintf("%q is not a channel (want sms, voice or email)", req.Channel)})
	} else if addr, err := normalizeAddress(req.Channel, req.Address); err != nil {
		ps = append(ps, problemJSON{Field: "address", Message: err.Error()})
	} else {
		req.Address = addr
	}
	if req.Reason = strings.TrimSpace(req.Reason); req.Reason == "" {
		ps = append(ps, problemJSON{Field: "reason", Message: "is required"})
	}
	if len(ps) > 0 {
		return &apiError{status: http.StatusBadRequest, msg: "invalid opt-out", problems: ps}
	}
	// The log and the audit name the address by its hash, so erasing the
	// borrower later leaves nothing personal in them.
	hash := store.AddressHash(req.Channel, req.Address)
	detail := map[string]any{"action": "add", "channel": req.Channel, "address_hash": hash, "reason": req.Reason, "by": c.key.ID}
	// The opt-out and its event are one transaction (an opt-out recorded
	// before has its event already).
	created, err := a.Store.AddOptOut(c.ctx, nudge.OptOut{Lender: c.lender(), Channel: req.Channel, Address: req.Address,
		Source: "api", Reason: req.Reason, CreatedAt: a.now()}, a.newEvent(c, "", nudge.EventOptOut, nudge.ReasonOptedOut, detail))
	if err != nil {
		return err
	}
	if err := a.audit(c, "opt_out.add", string(req.Channel)+":"+hash, map[string]any{"reason": req.Reason, "created": created}); err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	web.WriteJSON(c.w, code, map[string]any{"channel": req.Channel, "address": req.Address, "created": created})
	return nil
}

func (a *API) removeOptOut(c *call) error {
	ch, err := nudge.ParseChannel(c.r.PathValue("channel"))
	if err != nil {
		return &apiError{status: http.StatusBadRequest, msg: "invalid opt-out",
			problems: []problemJSON{{Field: "channel", Message: err.Error()}}}
	}
	addr, err := normalizeAddress(ch, c.r.PathValue("address"))
	if err != nil {
		return &apiError{status: http.StatusBadRequest, msg: "invalid opt-out",
			problems: []problemJSON{{Field: "address", Message: err.Error()}}}
	}
	reason, err := reasonParam(c)
	if err != nil {
		return err
	}
	hash := store.AddressHash(ch, addr)
	detail := map[string]any{"action": "remove", "channel": ch, "address_hash": hash, "reason": reason, "by": c.key.ID}
	// The removal and its event are one transaction.
	removed, err := a.Store.RemoveOptOut(c.ctx, c.lender(), ch, addr, a.newEvent(c, "", nudge.EventOptOut, "", detail))
	if err != nil {
		return err
	}
	if !removed {
		return errorf(http.StatusNotFound, "no %s opt-out for this address", ch)
	}
	if err := a.audit(c, "opt_out.remove", string(ch)+":"+hash, map[string]string{"reason": reason}); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"channel": ch, "address": addr, "removed": true})
	return nil
}
