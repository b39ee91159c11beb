package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/store"
)

// Eraser is implemented by stores that can erase a borrower's personal data;
// the suite checks it when the store under test implements it.
type Eraser interface {
	ErasePersonalData(ctx context.Context, lender, accountID string, now time.Time) error
}

// eraseNumber and eraseEmail are the fixture borrower's addresses.
const (
	eraseNumber = "+15125550100"
	eraseEmail  = "ana@example.com"
)

func testErasePersonalData(t *testing.T, s nudge.Store) {
	es, ok := s.(Eraser)
	if !ok {
		t.Skip("the store does not implement Eraser")
	}
	ctx := context.Background()
	a1 := Account("acme", "A-1")
	a1.Holds = []nudge.Hold{{Kind: nudge.HoldHardship, Reason: "Ana lost her job at the clinic"}}
	other := Account("acme", "A-2")
	other.Borrower.Name = "Bo Li"
	other.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+15125550199", Consent: true}}
	foreign := Account("beta", "A-1")
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a1, other, foreign}, T0))
	require.NoError(t, s.SetContactState(ctx, "acme", "A-1", nudge.Voice, eraseNumber, nudge.ContactWrongParty))

	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder("acme", "A-1", "due-sms", T0)})
	require.NoError(t, err)
	_, err = s.ClaimAttempt(ctx, Attempt(rs[0].ID, "A-1", nudge.SMS, T0), nil)
	require.NoError(t, err)
	for _, r := range []nudge.Reply{
		{Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, From: eraseNumber, To: "+15125550000", Body: "Ana here, I pay Friday",
			Intent: nudge.IntentPromise, ProviderID: "SM-erase-1", CreatedAt: T0},
		{Lender: "acme", Channel: nudge.SMS, From: eraseNumber, To: "+15125550000", Body: "who is this",
			Intent: nudge.IntentUnknown, ProviderID: "SM-erase-2", CreatedAt: T0},
		{Lender: "acme", AccountID: "A-2", Channel: nudge.SMS, From: "+15125550199", To: "+15125550000", Body: "Bo: paid",
			Intent: nudge.IntentPaid, ProviderID: "SM-erase-3", CreatedAt: T0},
	} {
		_, err := s.InsertReply(ctx, r)
		require.NoError(t, err)
	}
	promise := nudge.Promise{ID: "prm_erase", Lender: "acme", AccountID: "A-1", Amount: "412.50", Currency: "USD",
		Due: nudge.MustDate("2026-06-10"), Status: nudge.PromisePending, Channel: nudge.SMS, ReplyID: "rep_x", CreatedAt: T0, UpdatedAt: T0}
	require.NoError(t, s.InsertPromise(ctx, promise))
	for _, o := range []nudge.OptOut{
		{Lender: "acme", Channel: nudge.SMS, Address: eraseNumber, Source: "sms_keyword", Reason: "STOP texting Ana", CreatedAt: T0},
		{Lender: "acme", Channel: nudge.Email, Address: "Ana@Example.com", Source: "email_link", CreatedAt: T0},
		{Lender: "beta", Channel: nudge.SMS, Address: eraseNumber, Source: "sms_keyword", CreatedAt: T0},
	} {
		_, err := s.AddOptOut(ctx, o)
		require.NoError(t, err)
	}
	for _, d := range []string{
		`{"channel": "sms", "address": "+1********00", "input": "stop", "status": "sent", "nested": {"note": "called +1 512 555 0100", "n": 2}}`,
		`{"By": "cancel_account", "To": "+15125550100", "list": ["ana@example.com", "kept"]}`,
		`{"until": "2026-06-02T13:00:00Z"}`,
	} {
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventCallback,
			Detail: json.RawMessage(d), At: T0}))
	}
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-2", Kind: nudge.EventCallback,
		Detail: json.RawMessage(`{"to": "+15125550199"}`), At: T0}))

	at := T0.Add(time.Hour)
	require.NoError(t, es.ErasePersonalData(ctx, "acme", "A-1", at))

	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Empty(t, got.Borrower.Name)
	require.Empty(t, got.Borrower.Timezone)
	require.Nil(t, got.Address)
	require.Equal(t, nudge.StatusClosed, got.Status)
	require.True(t, got.NextActionAt.IsZero(), "no further planning")
	require.Equal(t, []nudge.Contact{
		{Channel: nudge.SMS, Address: "erased-0", Consent: true},
		{Channel: nudge.Voice, Address: "erased-1", Consent: true, State: nudge.ContactWrongParty},
		{Channel: nudge.Email, Address: "erased-2"},
	}, got.Contacts, "the contacts keep their shape, not their addresses")
	require.Equal(t, []nudge.Hold{{Kind: nudge.HoldHardship}}, got.Holds)
	doc, err := json.Marshal(got)
	require.NoError(t, err)
	for _, pii := range []string{"Ana", "5550100", "ana@", "73301", "TX", "Chicago"} {
		require.NotContains(t, string(doc), pii)
	}

	due, err := s.DueAccounts(ctx, at.Add(time.Hour), 10)
	require.NoError(t, err)
	for _, a := range due {
		require.False(t, a.Lender == "acme" && a.ID == "A-1", "an erased account is never due")
	}
	found, err := s.AccountsByAddress(ctx, nudge.SMS, eraseNumber)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, "beta", found[0].Lender, "only the other lender's account still has the number")

	atts, err := s.AttemptHistory(ctx, "acme", "A-1", time.Time{})
	require.NoError(t, err)
	require.Len(t, atts, 1)
	require.Empty(t, atts[0].Address)

	replies, err := s.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Len(t, replies, 3)
	for _, r := range replies {
		if r.ProviderID == "SM-erase-3" {
			require.Equal(t, "Bo: paid", r.Body, "another borrower's reply is kept")
			continue
		}
		require.Empty(t, r.From, r.ProviderID)
		require.Empty(t, r.Body, r.ProviderID)
	}

	ps, err := s.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, []nudge.Promise{promise}, ps, "promises hold no personal data")

	for _, tc := range []struct {
		name    string
		lender  string
		channel nudge.ChannelKind
		address string
		want    bool
	}{
		{name: "sms", lender: "acme", channel: nudge.SMS, address: eraseNumber, want: true},
		{name: "email in another case", lender: "acme", channel: nudge.Email, address: "ANA@example.com", want: true},
		{name: "voice never opted out", lender: "acme", channel: nudge.Voice, address: eraseNumber},
	} {
		out, err := s.IsOptedOut(ctx, tc.lender, tc.channel, tc.address)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, out, tc.name)
	}
	oos, err := s.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, oos, 2)
	for _, o := range oos {
		require.Empty(t, o.Address)
		require.Empty(t, o.Reason)
		require.Len(t, o.AddressHash, 64)
		require.NotEmpty(t, o.Source)
	}
	betaOOs, err := s.ListOptOuts(ctx, "beta")
	require.NoError(t, err)
	require.Equal(t, eraseNumber, betaOOs[0].Address, "another lender's opt-out is untouched")

	evs, err := s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, evs, 3)
	require.JSONEq(t, `{"channel": "sms", "status": "sent", "nested": {"n": 2}}`, string(evs[0].Detail))
	require.JSONEq(t, `{"By": "cancel_account", "list": ["kept"]}`, string(evs[1].Detail))
	require.JSONEq(t, `{"until": "2026-06-02T13:00:00Z"}`, string(evs[2].Detail))

	audit, err := s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.NotEmpty(t, audit)
	last := audit[len(audit)-1]
	require.Equal(t, "erase_personal_data", last.Action)
	require.Equal(t, "A-1", last.Target)
	require.Equal(t, "system", last.Actor)
	require.Equal(t, at, last.At)
	require.JSONEq(t, `{"contacts": 3, "holds": 1, "attempts": 1, "replies": 2, "opt_outs": 2, "events": 2, "audit": 0,
		"links": 0, "early_callbacks": 0}`, last.Detail)
	for _, pii := range []string{"Ana", "5550100", "ana@"} {
		require.NotContains(t, last.Detail, pii)
	}

	// Other accounts and lenders are untouched.
	bo, err := s.GetAccount(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.Equal(t, "Bo Li", bo.Borrower.Name)
	require.Equal(t, "+15125550199", bo.Contacts[0].Address)
	boEvents, err := s.Events(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.JSONEq(t, `{"to": "+15125550199"}`, string(boEvents[0].Detail))
	b1, err := s.GetAccount(ctx, "beta", "A-1")
	require.NoError(t, err)
	require.Equal(t, foreign.Borrower, b1.Borrower)
	require.Equal(t, nudge.StatusActive, b1.Status)

	// Erasing again is harmless and changes nothing more.
	require.NoError(t, es.ErasePersonalData(ctx, "acme", "A-1", at.Add(time.Minute)))
	again, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, got.Contacts, again.Contacts)
	audit, err = s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.JSONEq(t, `{"contacts": 0, "holds": 0, "attempts": 0, "replies": 0, "opt_outs": 0, "events": 0, "audit": 0,
		"links": 0, "early_callbacks": 0}`, audit[len(audit)-1].Detail)

	err = es.ErasePersonalData(ctx, "acme", "missing", at)
	require.ErrorIs(t, err, nudge.ErrNotFound)
	err = es.ErasePersonalData(ctx, "beta", "A-2", at)
	require.ErrorIs(t, err, nudge.ErrNotFound, "an account of another lender is not found")
	require.False(t, strings.Contains(err.Error(), eraseNumber))
}

// Catalog is implemented by stores that can list their text columns from
// the database's catalogue; the erasure scan reads every one of them, so a
// column added later is covered without changing the test.
type Catalog interface {
	// TextColumns lists every column ("table.column") whose type holds
	// text or bytes.
	TextColumns(ctx context.Context) ([]string, error)
	// ColumnText returns every non-null value of a column, as text.
	ColumnText(ctx context.Context, column string) ([]string, error)
}

// EraserBy is implemented by stores that say what an erasure changed.
type EraserBy interface {
	ErasePersonalDataBy(ctx context.Context, lender, accountID, actor string, now time.Time) (store.Erasure, error)
}

// The scanned borrower: a name, two numbers and an email that appear
// nowhere else, and a number they gave in free text that is none of their
// contacts.
const (
	scanName     = "Marisol Quintanilla"
	scanSMS      = "+15125550188"
	scanVoice    = "+15125550177"
	scanEmail    = "marisol.q@example.net"
	scanFreeText = "+14155550876"
	// scanOther is another borrower's number, which must survive.
	scanOther = "+15125550166"
)

// plainSHA256 is the unkeyed hash opt-outs were once stored under.
func plainSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// testErasureScan puts a borrower's name, numbers and email in every kind
// of record, erases the borrower, then reads every text column of every
// table (from the catalogue) and finds none of them in any encoding.
// scanNeedles are what the erasure scan looks for: the fixture borrower's
// name, addresses, free text and the plain hashes of the addresses.
func scanNeedles(name string) []string {
	return []string{name, scanSMS, scanVoice, scanEmail, scanFreeText,
		plainSHA256(scanSMS), plainSHA256(scanVoice), plainSHA256(scanEmail)}
}

func testErasureScan(t *testing.T, s nudge.Store) {
	cat, ok := s.(Catalog)
	if !ok {
		t.Skip("the store does not implement Catalog")
	}
	es, ok := s.(EraserBy)
	if !ok {
		t.Skip("the store does not implement EraserBy")
	}
	ctx := context.Background()
	if h, ok := s.(interface {
		AddressHash(nudge.ChannelKind, string) string
	}); ok {
		require.NotEqual(t, plainSHA256(scanSMS), h.AddressHash(nudge.SMS, scanSMS), "open the store with the deployment's secret")
	}
	const lender, id = "acme", "A-9"
	reason := scanName + " lost job, call " + scanFreeText
	a := Account(lender, id)
	a.Borrower.Name = scanName
	a.Contacts = []nudge.Contact{
		{Channel: nudge.SMS, Address: scanSMS, Consent: true},
		{Channel: nudge.Voice, Address: scanVoice, Consent: true},
		{Channel: nudge.Email, Address: scanEmail},
	}
	a.Holds = []nudge.Hold{{Kind: nudge.HoldHardship, Reason: reason}}
	other := Account(lender, "A-10")
	other.Borrower.Name = "Bo Li"
	other.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: scanOther, Consent: true}}
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a, other}, T0))
	require.NoError(t, s.AddHold(ctx, lender, id, nudge.Hold{Kind: nudge.HoldDispute, Reason: "disputed by " + scanEmail}, T0))

	// Attempts with what was sent, a kept provider callback, link tokens.
	rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder(lender, id, "due-sms", T0), Reminder(lender, id, "late-voice", T0)})
	require.NoError(t, err)
	require.Len(t, rs, 2)
	sms := Attempt(rs[0].ID, id, nudge.SMS, T0)
	sms.Address = scanSMS
	sms, err = s.ClaimAttempt(ctx, sms, nil)
	require.NoError(t, err)
	// The menu the text offered holds an amount and a date, nothing personal.
	menu := nudge.Menu{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-06-08"), Amount: "412.50"}, "2": {Intent: nudge.IntentPaid}}
	_, err = s.UpdateAttempt(ctx, sms.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SM-scan",
		Body: "Hi " + scanName + ", reply to " + scanEmail + " or call (512) 555-0188", Template: "due_sms@en:0123456789ab",
		Menu: menu, SendingAt: T0, At: T0})
	require.NoError(t, err)
	voice := Attempt(rs[1].ID, id, nudge.Voice, T0)
	voice.Address = scanVoice
	voice, err = s.ClaimAttempt(ctx, voice, nil)
	require.NoError(t, err)
	require.NoError(t, s.KeepEarlyCallback(ctx, "CA-scan", nudge.AttemptDelivered, "", T0))
	_, err = s.UpdateAttempt(ctx, voice.ID, nudge.AttemptUpdate{Status: nudge.AttemptSent, Body: "Hello " + scanName, SendingAt: T0, At: T0})
	require.NoError(t, err)
	if ls, ok := s.(link.Store); ok {
		for _, l := range []link.Link{
			{Purpose: link.SelfService, Channel: nudge.SMS, Address: scanSMS, ExpiresAt: T0.Add(time.Hour)},
			{Purpose: link.Unsubscribe, Channel: nudge.Email, Address: scanEmail},
			{Purpose: link.Voice, Channel: nudge.Voice, Address: scanVoice, Attempt: voice.ID, ExpiresAt: T0.Add(time.Hour)},
		} {
			l.Token, l.Lender, l.AccountID, l.CreatedAt = link.NewToken(), lender, id, T0
			_, err := ls.IssueLink(ctx, l, T0)
			require.NoError(t, err)
		}
	}

	// Replies: the borrower's, one unmatched from their number, one from a
	// stranger naming their email; a promise.
	for _, r := range []nudge.Reply{
		{ID: "rep_scan_1", Lender: lender, AccountID: id, Channel: nudge.SMS, From: scanSMS, To: "+15125550000", Body: "It's " + scanName + ", I pay Friday",
			Intent: nudge.IntentPromise, ProviderID: "SM-scan-1", NeedsPerson: true, CreatedAt: T0},
		{ID: "rep_scan_2", Lender: lender, Channel: nudge.Voice, From: scanVoice, To: "+15125550000", Body: "who is this",
			Intent: nudge.IntentUnknown, ProviderID: "SM-scan-2", NeedsPerson: true, CreatedAt: T0},
		{Lender: lender, Channel: nudge.SMS, From: "+15125550155", To: "+15125550000", Body: "her sister here, write to " + strings.ToUpper(scanEmail),
			Intent: nudge.IntentUnknown, ProviderID: "SM-scan-3", CreatedAt: T0},
	} {
		_, err := s.InsertReply(ctx, r)
		require.NoError(t, err)
	}
	// Both needing a person were worked: the notes name the borrower, and
	// the unmatched one's entry names only the reply.
	if cs, ok := s.(ConsoleStore); ok {
		require.NoError(t, cs.AssignReply(ctx, lender, "rep_scan_1", "key_1", "key_1", T0))
		require.NoError(t, cs.ResolveReply(ctx, lender, "rep_scan_1", "key_1", "Spoke to "+scanName+" on "+scanFreeText, T0))
		require.NoError(t, cs.ResolveReply(ctx, lender, "rep_scan_2", "key_1", "Her husband answered; call back after six", T0))
	}
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{ID: "prm_scan", Lender: lender, AccountID: id, Amount: "412.50", Currency: "USD",
		Due: nudge.MustDate("2026-06-10"), Channel: nudge.SMS, ReplyID: "rep_scan", CreatedAt: T0}))

	// Opt-outs with reasons; the keyed hash the store keeps for the number.
	for _, o := range []nudge.OptOut{
		{Lender: lender, Channel: nudge.SMS, Address: scanSMS, Source: "api", Reason: reason, CreatedAt: T0},
		{Lender: lender, Channel: nudge.Voice, Address: scanVoice, Source: "voice_keypad", CreatedAt: T0},
		{Lender: lender, Channel: nudge.Email, Address: strings.ToUpper(scanEmail), Source: "email_link", Reason: "asked by " + scanName, CreatedAt: T0},
	} {
		_, err := s.AddOptOut(ctx, o)
		require.NoError(t, err)
	}
	oos, err := s.ListOptOuts(ctx, lender)
	require.NoError(t, err)
	keyed := map[nudge.ChannelKind]string{}
	for _, o := range oos {
		keyed[o.Channel] = o.AddressHash
	}

	// Events of every kind on the account, and some that name no account:
	// opt-outs recorded by address (by plain and keyed hash, as the API
	// has written them) and a note naming the borrower.
	kinds := []nudge.EventKind{nudge.EventPlanned, nudge.EventEnqueued, nudge.EventDecision, nudge.EventAttempt, nudge.EventCallback,
		nudge.EventReply, nudge.EventPromise, nudge.EventOptOut, nudge.EventPayment, nudge.EventHold, nudge.EventCanceled,
		nudge.EventExpired, nudge.EventOverride, nudge.EventReconcile, nudge.EventPause}
	for _, k := range kinds {
		d, err := json.Marshal(map[string]any{"status": "sent", "to": scanSMS, "summary": "spoke to " + scanName,
			"list": []string{scanEmail, "kept"}, "reason": reason, "nested": map[string]any{"n": 2, "email": scanEmail}})
		require.NoError(t, err)
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: lender, AccountID: id, Kind: k, Action: "clear",
			Reason: nudge.Reason(reason), Detail: d, At: T0}))
	}
	for _, d := range []string{
		`{"action": "add", "channel": "sms", "address_hash": "` + plainSHA256(scanSMS) + `", "reason": "` + reason + `", "by": "key_1"}`,
		`{"action": "remove", "channel": "sms", "address_hash": "` + keyed[nudge.SMS] + `", "reason": "call ` + scanFreeText + `", "by": "key_1"}`,
		`{"note": "` + scanName + ` called from a new number"}`,
		`{"action": "add", "channel": "voice", "address": "` + scanVoice + `"}`,
	} {
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: lender, Kind: nudge.EventOptOut, Reason: nudge.ReasonOptedOut,
			Detail: json.RawMessage(d), At: T0}))
	}

	// A work item about the voice number, completed with a note naming the
	// borrower.
	if wis, ok := s.(nudge.WorkItemStore); ok {
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{Reminder(lender, id, "visit", T0)})
		require.NoError(t, err)
		require.Len(t, rs, 1)
		_, err = wis.CreateWorkItem(ctx, nudge.WorkItem{Lender: lender, AccountID: id, ReminderID: rs[0].ID, Kind: nudge.WorkFieldVisit,
			Instructions: "Visit " + scanName + " at home", Channel: nudge.Voice, Address: scanVoice, CreatedAt: T0},
			nudge.Event{Lender: lender, AccountID: id, ReminderID: rs[0].ID, Kind: nudge.EventWorkItem, Action: "created", At: T0})
		require.NoError(t, err)
		_, _, err = wis.CompleteWorkItem(ctx, lender, "wi_"+strings.TrimPrefix(rs[0].ID, "rem_"),
			nudge.WorkCompletion{Outcome: nudge.OutcomeRefused, Note: "met " + scanName + ", call " + scanFreeText, Actor: "key_1"}, T0)
		require.NoError(t, err)
	}

	// Audit entries: about the account, about its addresses by hash and by
	// address, and one that is not about the borrower at all.
	for _, e := range []nudge.AuditEntry{
		{Lender: lender, Actor: "key_1", Action: "hold.set", Target: id, Detail: `{"kind": "hardship", "reason": "` + reason + `"}`, At: T0},
		{Lender: lender, Actor: "key_1", Action: "hold.clear", Target: id, Detail: `{"kind": "dispute", "reason": "resolved with her"}`, At: T0},
		{Lender: lender, Actor: "key_1", Action: "opt_out.add", Target: "sms:" + plainSHA256(scanSMS), Detail: `{"reason": "` + reason + `", "created": true}`, At: T0},
		{Lender: lender, Actor: "key_1", Action: "opt_out.remove", Target: "email:" + keyed[nudge.Email], Detail: `{"reason": "typo"}`, At: T0},
		{Lender: lender, Actor: "key_1", Action: "opt_out.add", Target: "email:" + scanEmail, Detail: `note: call +1 512 555 0188`, At: T0},
		{Lender: lender, Actor: "key_1", Action: "cadence.put", Target: "due@1", Detail: `{"bytes": 10}`, At: T0},
	} {
		require.NoError(t, s.AppendAudit(ctx, e))
	}

	// A webhook endpoint with a delivery of one of the account's events.
	ws, hooks := s.(nudge.WebhookStore)
	if hooks {
		ep, err := ws.CreateWebhookEndpoint(ctx, nudge.WebhookEndpoint{ID: "whe_scan", Lender: lender, URL: "https://crm.example.com/h",
			Secret: "v1:sealed", Enabled: true, CreatedAt: T0})
		require.NoError(t, err)
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: lender, AccountID: id, Kind: nudge.EventReply, Action: "promise",
			Detail: json.RawMessage(`{"intent": "promise", "from": "` + scanSMS + `", "amount": "10.00"}`), At: T0}))
		feed, err := ws.Feed(ctx, lender, ep.Cursor, 10)
		require.NoError(t, err)
		require.Len(t, feed, 1)
		_, err = ws.AddWebhookDeliveries(ctx, ep.ID, ep.Cursor, feed[0].Position, []nudge.WebhookDelivery{{ID: "msg_scan", Lender: lender,
			AccountID: id, EventID: feed[0].Event.ID, Position: feed[0].Position, EventType: nudge.PublicReplyUnderstood,
			NextAt: T0, GiveUpAt: T0, CreatedAt: T0}})
		require.NoError(t, err)
		_, _, err = ws.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_scan", Status: nudge.WebhookFailed, HTTPStatus: 503,
			Error: "endpoint answered 503 Service Unavailable", At: T0})
		require.NoError(t, err)
	}

	erased, err := es.ErasePersonalDataBy(ctx, lender, id, "key_1", T0.Add(time.Hour))
	require.NoError(t, err)
	if hooks {
		// The feed, and so every webhook body made from it, names no one.
		feed, err := ws.Feed(ctx, lender, 0, 1000)
		require.NoError(t, err)
		require.NotEmpty(t, feed)
		for _, f := range feed {
			if pub, ok := nudge.PublicEventOf(f); ok {
				b, err := json.Marshal(pub)
				require.NoError(t, err)
				require.Empty(t, logmask.Leaks(string(b), scanNeedles(scanName)...), "public event %s", pub.Type)
			}
		}
	}
	require.Positive(t, erased.Audit)
	require.Positive(t, erased.Events)

	needles := scanNeedles(scanName)
	cols, err := cat.TextColumns(ctx)
	require.NoError(t, err)
	require.Contains(t, cols, "events.detail")
	require.Contains(t, cols, "audit_log.detail")
	require.Contains(t, cols, "attempts.menu")
	var otherSeen bool
	for _, col := range cols {
		values, err := cat.ColumnText(ctx, col)
		require.NoError(t, err)
		for _, v := range values {
			require.Empty(t, logmask.Leaks(v, needles...), "%s keeps %q", col, v)
			otherSeen = otherSeen || len(logmask.Leaks(v, scanOther)) > 0
		}
	}
	require.True(t, otherSeen, "the scan sees another borrower's number, which the erasure keeps")

	// The attempt keeps what its text offered, which names no one.
	kept, err := s.GetAttempt(ctx, sms.ID)
	require.NoError(t, err)
	require.Equal(t, menu, kept.Menu)
	require.Empty(t, kept.Body)
	require.Equal(t, "due_sms@en:0123456789ab", kept.Template, "the template version names no one and is kept")
	if _, ok := s.(ConsoleStore); ok {
		replies, err := s.ListReplies(ctx, lender, true)
		require.NoError(t, err)
		for _, r := range replies {
			if r.ID == "rep_scan_1" || r.ID == "rep_scan_2" {
				require.Empty(t, r.Resolution, r.ID)
				require.Equal(t, "key_1", r.ResolvedBy, "who resolved it stays")
				require.False(t, r.ResolvedAt.IsZero(), r.ID)
			}
		}
		audit, err := s.ListAudit(ctx, lender)
		require.NoError(t, err)
		var notes int
		for _, a := range audit {
			if a.Action == store.AuditResolveReply {
				notes++
				require.NotContains(t, a.Detail, "note", "a note about the borrower goes, even one naming no one (%s)", a.Target)
			}
		}
		require.Equal(t, 2, notes)
	}

	// The opt-outs still suppress; the audit keeps what was done.
	for _, ch := range nudge.Channels {
		addr := map[nudge.ChannelKind]string{nudge.SMS: scanSMS, nudge.Voice: scanVoice, nudge.Email: scanEmail}[ch]
		out, err := s.IsOptedOut(ctx, lender, ch, addr)
		require.NoError(t, err)
		require.True(t, out, ch)
	}
	audit, err := s.ListAudit(ctx, lender)
	require.NoError(t, err)
	actions := map[string]string{}
	for _, e := range audit {
		actions[e.Action+" "+e.Target] = e.Detail
	}
	require.Contains(t, actions, "hold.set "+id)
	require.Contains(t, actions, "opt_out.add sms:"+keyed[nudge.SMS], "the audit line names the opt-out by its keyed hash")
	require.Contains(t, actions, "opt_out.add "+store.ErasedTarget)
	require.JSONEq(t, `{"bytes": 10}`, actions["cadence.put due@1"])
}
