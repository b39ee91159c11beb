package api

import (
	"encoding/json"
	"time"

	"github.com/nudgehq/nudge"
)

// The JSON shapes of the API's records. Times are UTC RFC 3339 and left
// out when unknown; dates are YYYY-MM-DD.

type reminderJSON struct {
	ID             string     `json:"id"`
	AccountID      string     `json:"account_id"`
	Cadence        string     `json:"cadence"`
	CadenceVersion int        `json:"cadence_version"`
	Step           string     `json:"step"`
	Cycle          string     `json:"cycle,omitempty"`
	Channel        string     `json:"channel"`
	Fallback       string     `json:"fallback,omitempty"`
	Template       string     `json:"template"`
	BrokenPromise  bool       `json:"broken_promise,omitempty"`
	Status         string     `json:"status"`
	Reason         string     `json:"reason,omitempty"`
	DueAt          *time.Time `json:"due_at,omitempty"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	NextAt         *time.Time `json:"next_at,omitempty"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
}

type attemptJSON struct {
	ID           string     `json:"id"`
	ReminderID   string     `json:"reminder_id"`
	AccountID    string     `json:"account_id"`
	Channel      string     `json:"channel"`
	Address      string     `json:"address"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	ErrorCode    string     `json:"error_code,omitempty"`
	ProviderID   string     `json:"provider_id,omitempty"`
	Zones        []string   `json:"zones"`
	Profile      string     `json:"profile,omitempty"`
	AnsweredBy   string     `json:"answered_by,omitempty"`
	Conversation bool       `json:"conversation,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
}

type promiseJSON struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	Amount    string     `json:"amount"`
	Currency  string     `json:"currency,omitempty"`
	Due       string     `json:"due,omitempty"`
	Status    string     `json:"status"`
	Channel   string     `json:"channel,omitempty"`
	ReplyID   string     `json:"reply_id,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

type replyJSON struct {
	ID          string     `json:"id"`
	Channel     string     `json:"channel"`
	From        string     `json:"from,omitempty"`
	Body        string     `json:"body,omitempty"`
	Intent      string     `json:"intent,omitempty"`
	NeedsPerson bool       `json:"needs_person,omitempty"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
}

type eventJSON struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	ReminderID string          `json:"reminder_id,omitempty"`
	AttemptID  string          `json:"attempt_id,omitempty"`
	Action     string          `json:"action,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Rule       string          `json:"rule,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	At         *time.Time      `json:"at,omitempty"`
}

type optOutJSON struct {
	Channel     string     `json:"channel"`
	Address     string     `json:"address,omitempty"`
	AddressHash string     `json:"address_hash"`
	Source      string     `json:"source,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   *time.Time `json:"created_at,omitempty"`
}

type cadenceJSON struct {
	Name      string     `json:"name"`
	Version   int        `json:"version"`
	Active    bool       `json:"active"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	Source    *string    `json:"source,omitempty"`
}

// ts returns a UTC time pointer, nil for the zero time.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func reminderView(r nudge.Reminder) reminderJSON {
	return reminderJSON{
		ID: r.ID, AccountID: r.Key.AccountID, Cadence: r.Key.Cadence, CadenceVersion: r.CadenceVersion,
		Step: r.Key.Step, Cycle: r.Key.Cycle.String(), Channel: string(r.Channel), Fallback: string(r.Fallback),
		Template: r.Template, BrokenPromise: r.BrokenPromise, Status: string(r.Status), Reason: string(r.Reason),
		DueAt: ts(r.DueAt), ExpiresAt: ts(r.ExpiresAt), NextAt: ts(r.NextAt), CreatedAt: ts(r.CreatedAt), UpdatedAt: ts(r.UpdatedAt),
	}
}

func attemptView(a nudge.Attempt) attemptJSON {
	zones := a.Zones
	if zones == nil {
		zones = []string{}
	}
	return attemptJSON{
		ID: a.ID, ReminderID: a.ReminderID, AccountID: a.AccountID, Channel: string(a.Channel), Address: a.Address,
		Status: string(a.Status), Reason: string(a.Reason), ErrorCode: a.ErrorCode, ProviderID: a.ProviderID,
		Zones: zones, Profile: a.Profile, AnsweredBy: a.AnsweredBy, Conversation: a.Conversation,
		CreatedAt: ts(a.CreatedAt), SentAt: ts(a.SentAt), UpdatedAt: ts(a.UpdatedAt),
	}
}

func promiseView(p nudge.Promise) promiseJSON {
	return promiseJSON{
		ID: p.ID, AccountID: p.AccountID, Amount: p.Amount, Currency: p.Currency, Due: p.Due.String(),
		Status: string(p.Status), Channel: string(p.Channel), ReplyID: p.ReplyID,
		CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt),
	}
}

func replyView(r nudge.Reply) replyJSON {
	return replyJSON{ID: r.ID, Channel: string(r.Channel), From: r.From, Body: r.Body, Intent: string(r.Intent),
		NeedsPerson: r.NeedsPerson, CreatedAt: ts(r.CreatedAt)}
}

func eventView(e nudge.Event) eventJSON {
	return eventJSON{ID: e.ID, Kind: string(e.Kind), ReminderID: e.ReminderID, AttemptID: e.AttemptID,
		Action: e.Action, Reason: string(e.Reason), Rule: e.Rule, Detail: e.Detail, At: ts(e.At)}
}

func optOutView(o nudge.OptOut) optOutJSON {
	return optOutJSON{Channel: string(o.Channel), Address: o.Address, AddressHash: o.AddressHash, Source: o.Source,
		Reason: o.Reason, CreatedAt: ts(o.CreatedAt)}
}

func cadenceView(c nudge.CadenceVersion, withSource bool) cadenceJSON {
	v := cadenceJSON{Name: c.Name, Version: c.Version, Active: c.Active, CreatedAt: ts(c.CreatedAt)}
	if withSource {
		s := string(c.Source)
		v.Source = &s
	}
	return v
}

// mapSlice applies f to every element; it never returns nil.
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
