// Package storetest is the behaviour every nudge.Store must show, as one test
// suite that each backend runs against a fresh store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// T0 is the instant the suite's fixtures are built around.
var T0 = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)

// RowsReader is implemented by stores that count the account rows they read;
// the suite then checks that planning reads only what is due.
type RowsReader interface {
	RowsRead() int64
}

// Option tunes the suite.
type Option func(*config)

type config struct {
	portfolio int
}

// WithPortfolioSize sets how many accounts the due-accounts scale test loads
// (default 100,000).
func WithPortfolioSize(n int) Option { return func(c *config) { c.portfolio = n } }

// Run runs the suite. open must return a fresh, migrated, empty store and
// arrange for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) nudge.Store, opts ...Option) {
	cfg := config{portfolio: 100_000}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s nudge.Store)
	}{
		{"Ping", testPing},
		{"Lenders", testLenders},
		{"APIKeys", testAPIKeys},
		{"AccountRoundTrip", testAccountRoundTrip},
		{"AccountLenderScoping", testAccountLenderScoping},
		{"UpsertReplacesContactsKeepsState", testUpsertKeepsContactState},
		{"UpsertAllOrNothing", testUpsertAllOrNothing},
		{"DueAccounts", testDueAccounts},
		{"AccountStatusAndHolds", testAccountStatusAndHolds},
		{"ContactStateAndAddressLookup", testContactStateAndLookup},
		{"Cadences", testCadences}, {"PutCadenceVersion", testPutCadenceVersion},
		{"RemindersNaturalKey", testRemindersNaturalKey},
		{"ReminderStatus", testReminderStatus},
		{"PendingAndCancelReminders", testPendingAndCancel},
		{"MoveOpenReminders", testMoveOpenReminders},
		{"ClaimAttempt", testClaimAttempt},
		{"ClaimCaps", testClaimCaps},
		{"ClaimConcurrentCap", testClaimConcurrentCap},
		{"ClaimConcurrentSameReminder", testClaimConcurrentSameReminder},
		{"UpdateAttempt", testUpdateAttempt},
		{"AttemptMenu", testAttemptMenu},
		{"ReleaseAndResolve", testReleaseAndResolve},
		{"EarlyCallbacks", testEarlyCallbacks},
		{"RecordOutcomes", testRecordOutcomes},
		{"RecordOutcomesBatchEdges", testRecordOutcomesBatchEdges},
		{"RecordOutcomesByProvider", testRecordOutcomesByProvider},
		{"ClaimWithEvents", testClaimWithEvents},
		{"ClaimAttempts", testClaimAttempts},
		{"Pauses", testPauses},
		{"QueueControl", testQueueControl},
		{"DeadLetters", testDeadLetters},
		{"CapAcrossChannels", testCapAcrossChannels},
		{"AttemptQueries", testAttemptQueries},
		{"Replies", testReplies},
		{"Promises", testPromises},
		{"OptOuts", testOptOuts},
		{"EventsAndAudit", testEventsAndAudit},
		{"APIPages", testAPIPages}, {"AccountRepliesAndKeys", testAccountRepliesAndKeys},
		{"ErasePersonalData", testErasePersonalData},
		{"ErasureScan", testErasureScan},
		{"Ops", testOps},
		{"SearchAccounts", testSearchAccounts},
		{"ConsoleLists", testConsoleLists},
		{"ReplyQueue", testReplyQueue},
		{"Plan", testPlan},
		{"Snapshots", testSnapshots},
		{"LenderPayments", testLenderPayments},
		{"Payments", testPayments},
		{"PaymentPlans", testPlans},
		{"Feed", testFeed}, {"FeedConcurrentWriters", testFeedConcurrentWriters},
		{"FeedErasure", testFeedErasure}, {"WebhookStore", testWebhookStore},
		{"KPIs", testKPIs}, {"Experiments", testExperiments},
		{"WorkItems", testWorkItems},
		{"EventsWithTheirChange", testEventsWithTheirChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
	t.Run("DueAccountsReadOnlyDue", func(t *testing.T) {
		t.Parallel()
		testDueAccountsScale(t, open(t), cfg.portfolio)
	})
}

// Account returns a complete fixture account of lender.
func Account(lender, id string) nudge.Account {
	return nudge.Account{
		ID:        id,
		Lender:    lender,
		Portfolio: "auto",
		Borrower:  nudge.Borrower{Name: "Ana Diaz", Language: "es", Timezone: "America/Chicago"},
		Address:   &nudge.Address{Country: "US", Region: "TX", PostalCode: "73301"},
		Contacts: []nudge.Contact{
			{Channel: nudge.SMS, Address: "+15125550100", Consent: true},
			{Channel: nudge.Voice, Address: "+15125550100", Consent: true},
			{Channel: nudge.Email, Address: "ana@example.com"},
		},
		Currency:  "USD",
		AmountDue: "412.50",
		DueDate:   nudge.MustDate("2026-06-05"),
		Status:    nudge.StatusActive,
		Holds:     []nudge.Hold{},
	}
}

func testPing(t *testing.T, s nudge.Store) {
	require.NoError(t, s.Ping(context.Background()))
}

func testLenders(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	_, err := s.GetLender(ctx, "acme")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	acme := nudge.Lender{ID: "acme", Name: "Acme Auto", Language: "en", Timezone: "America/New_York", Profile: "us",
		HelpPhone: "+18005550100", AgentPhone: "+18005550199", VoicemailBusinessName: "Acme Auto", VoicemailCallerName: "Sam Lee", CreatedAt: T0}
	require.NoError(t, s.UpsertLender(ctx, acme))
	require.NoError(t, s.UpsertLender(ctx, nudge.Lender{ID: "beta", Name: "Beta", Profile: "cn", CreatedAt: T0.Add(time.Hour)}))
	got, err := s.GetLender(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, acme, got)

	renamed := acme
	renamed.Name, renamed.CreatedAt = "Acme Auto Finance", T0.Add(48*time.Hour)
	renamed.VoicemailBusinessName, renamed.VoicemailCallerName = "", "Dana Cruz"
	require.NoError(t, s.UpsertLender(ctx, renamed))
	got, err = s.GetLender(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "Acme Auto Finance", got.Name)
	require.Empty(t, got.VoicemailBusinessName, "an update may clear the voicemail business name")
	require.Equal(t, "Dana Cruz", got.VoicemailCallerName)
	require.Equal(t, T0, got.CreatedAt, "an update keeps the creation time")

	all, err := s.ListLenders(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "acme", all[0].ID)
	require.Equal(t, "beta", all[1].ID)
}

func testAPIKeys(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	k := nudge.APIKey{ID: "key1", Lender: "acme", Role: nudge.RoleOperator, Hash: "h1", CreatedAt: T0}
	require.NoError(t, s.CreateAPIKey(ctx, k))
	got, err := s.APIKeyByHash(ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, k, got)

	err = s.CreateAPIKey(ctx, nudge.APIKey{ID: "key2", Lender: "acme", Role: nudge.RoleViewer, Hash: "h1", CreatedAt: T0})
	require.ErrorIs(t, err, nudge.ErrConflict, "hashes are unique")
	_, err = s.APIKeyByHash(ctx, "nope")
	require.ErrorIs(t, err, nudge.ErrNotFound)
}

func testAccountRoundTrip(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	a := Account("acme", "A-1")
	a.Holds = []nudge.Hold{{Kind: nudge.HoldDispute, Reason: "billing"}, {Kind: nudge.HoldHardship}}
	b := Account("acme", "A-2")
	b.Address = nil
	b.AmountDue = "1000000.01"
	b.Contacts = []nudge.Contact{}
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a, b}, T0))
	// The store marks both for planning at T0 and says so.
	a.NextActionAt, b.NextActionAt = T0, T0

	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, a, got)
	got, err = s.GetAccount(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.Equal(t, b, got)
	require.Equal(t, "1000000.01", got.AmountDue, "amounts keep their exact decimal string")

	_, err = s.GetAccount(ctx, "acme", "A-3")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	// Both were marked for planning at T0.
	due, err := s.DueAccounts(ctx, T0, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	due, err = s.DueAccounts(ctx, T0.Add(-time.Second), 10)
	require.NoError(t, err)
	require.Empty(t, due)
}

func testAccountLenderScoping(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1")}, T0))
	_, err := s.GetAccount(ctx, "beta", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound)
	require.ErrorIs(t, s.SetNextAction(ctx, "beta", "A-1", T0), nudge.ErrNotFound)
	require.ErrorIs(t, s.SetAccountStatus(ctx, "beta", "A-1", nudge.StatusPaid, T0), nudge.ErrNotFound)
	require.ErrorIs(t, s.AddHold(ctx, "beta", "A-1", nudge.Hold{Kind: nudge.HoldDispute}, T0), nudge.ErrNotFound)
	require.ErrorIs(t, s.ClearHold(ctx, "beta", "A-1", nudge.HoldDispute, T0), nudge.ErrNotFound)
	require.ErrorIs(t, s.SetContactState(ctx, "beta", "A-1", nudge.SMS, "+15125550100", nudge.ContactWrongParty), nudge.ErrNotFound)

	// The same account id under another lender is another account.
	other := Account("beta", "A-1")
	other.AmountDue = "7.00"
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{other}, T0))
	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, "412.50", got.AmountDue)

	// GetAccounts reads the lender's accounts among the ids, each once, with
	// their contacts; missing ids and other lenders' accounts are left out.
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-2")}, T0))
	many, err := s.GetAccounts(ctx, "acme", []string{"A-2", "A-9", "A-1", "A-2"})
	require.NoError(t, err)
	require.Len(t, many, 2)
	slices.SortFunc(many, func(a, b nudge.Account) int { return strings.Compare(a.ID, b.ID) })
	require.Equal(t, got, many[0])
	require.Equal(t, "A-2", many[1].ID)
	require.NotEmpty(t, many[1].Contacts)
	many, err = s.GetAccounts(ctx, "beta", []string{"A-1", "A-2"})
	require.NoError(t, err)
	require.Len(t, many, 1)
	require.Equal(t, "7.00", many[0].AmountDue)
	many, err = s.GetAccounts(ctx, "acme", nil)
	require.NoError(t, err)
	require.Empty(t, many)
}

func testUpsertKeepsContactState(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	a := Account("acme", "A-1")
	a.Holds = []nudge.Hold{{Kind: nudge.HoldDispute}}
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a}, T0))
	require.NoError(t, s.SetContactState(ctx, "acme", "A-1", nudge.Voice, "+15125550100", nudge.ContactWrongParty))
	require.NoError(t, s.SetNextAction(ctx, "acme", "A-1", time.Time{}))

	// The lender sends the account again: the email changes, the voice
	// number stays, the hold is lifted.
	b := Account("acme", "A-1")
	b.Contacts = []nudge.Contact{
		{Channel: nudge.Voice, Address: "+15125550100", Consent: true},
		{Channel: nudge.Email, Address: "ana.diaz@example.com"},
		{Channel: nudge.Email, Address: "ana.diaz@example.com"},
	}
	b.AmountDue = "100.00"
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{b}, T0.Add(time.Hour)))

	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, []nudge.Contact{
		{Channel: nudge.Voice, Address: "+15125550100", Consent: true, State: nudge.ContactWrongParty},
		{Channel: nudge.Email, Address: "ana.diaz@example.com"},
	}, got.Contacts)
	require.Empty(t, got.Holds)
	require.Equal(t, "100.00", got.AmountDue)

	due, err := s.DueAccounts(ctx, T0.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "an upsert marks the account for planning")
}

func testUpsertAllOrNothing(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-0")}, T0))

	changed := Account("acme", "A-0")
	changed.AmountDue = "1.00"
	bad := Account("acme", "A-2")
	bad.Status = "frozen"
	err := s.UpsertAccounts(ctx, []nudge.Account{changed, Account("acme", "A-1"), bad}, T0.Add(time.Hour))
	require.Error(t, err)

	_, err = s.GetAccount(ctx, "acme", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound, "nothing of a failed batch is written")
	got, err := s.GetAccount(ctx, "acme", "A-0")
	require.NoError(t, err)
	require.Equal(t, "412.50", got.AmountDue, "nothing of a failed batch is written")
}

func testDueAccounts(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	var accts []nudge.Account
	for i := range 5 {
		accts = append(accts, Account("acme", fmt.Sprintf("A-%d", i)))
	}
	require.NoError(t, s.UpsertAccounts(ctx, accts, T0))
	// A-0 never, A-1 in an hour, A-2 a minute ago, A-3 and A-4 stay at T0.
	require.NoError(t, s.SetNextAction(ctx, "acme", "A-0", time.Time{}))
	require.NoError(t, s.SetNextAction(ctx, "acme", "A-1", T0.Add(time.Hour)))
	require.NoError(t, s.SetNextAction(ctx, "acme", "A-2", T0.Add(-time.Minute)))

	tests := []struct {
		name  string
		at    time.Time
		limit int
		want  []string
	}{
		{name: "earliest first", at: T0, limit: 10, want: []string{"A-2", "A-3", "A-4"}},
		{name: "limit", at: T0, limit: 2, want: []string{"A-2", "A-3"}},
		{name: "later", at: T0.Add(2 * time.Hour), limit: 10, want: []string{"A-2", "A-3", "A-4", "A-1"}},
		{name: "before any", at: T0.Add(-time.Hour), limit: 10, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			due, err := s.DueAccounts(ctx, tc.at, tc.limit)
			require.NoError(t, err)
			var ids []string
			for _, a := range due {
				ids = append(ids, a.ID)
				require.Len(t, a.Contacts, 3, "contacts are loaded")
			}
			require.Equal(t, tc.want, ids)
		})
	}
}

func testDueAccountsScale(t *testing.T, s nudge.Store, size int) {
	ctx := context.Background()
	const due = 100
	later := make([]nudge.Account, 0, size-due)
	for i := range size - due {
		a := nudge.Account{ID: fmt.Sprintf("L-%07d", i), Lender: "acme", Currency: "USD", AmountDue: "10.00",
			Status: nudge.StatusActive, Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: fmt.Sprintf("+1512%07d", i), Consent: true}}}
		later = append(later, a)
	}
	require.NoError(t, s.UpsertAccounts(ctx, later, T0.Add(24*time.Hour)))
	now := make([]nudge.Account, 0, due)
	for i := range due {
		now = append(now, Account("acme", fmt.Sprintf("D-%03d", i)))
	}
	require.NoError(t, s.UpsertAccounts(ctx, now, T0))

	rr, counts := s.(RowsReader)
	var before int64
	if counts {
		before = rr.RowsRead()
	}
	got, err := s.DueAccounts(ctx, T0.Add(time.Minute), 1000)
	require.NoError(t, err)
	require.Len(t, got, due)
	for _, a := range got {
		require.Len(t, a.Contacts, 3)
	}
	if counts {
		read := rr.RowsRead() - before
		require.LessOrEqual(t, read, int64(due+due/10), "a tick reads only the due accounts, not the %d in the portfolio", size)
		require.GreaterOrEqual(t, read, int64(due))
	}
}

func testAccountStatusAndHolds(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1")}, T0))
	require.NoError(t, s.SetAccountStatus(ctx, "acme", "A-1", nudge.StatusPaid, T0))
	require.Error(t, s.SetAccountStatus(ctx, "acme", "A-1", "frozen", T0))

	require.NoError(t, s.AddHold(ctx, "acme", "A-1", nudge.Hold{Kind: nudge.HoldBankruptcy, Reason: "ch. 7"}, T0))
	require.NoError(t, s.AddHold(ctx, "acme", "A-1", nudge.Hold{Kind: nudge.HoldDispute}, T0))
	require.NoError(t, s.AddHold(ctx, "acme", "A-1", nudge.Hold{Kind: nudge.HoldBankruptcy, Reason: "ch. 13"}, T0))
	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.StatusPaid, got.Status)
	require.Equal(t, []nudge.Hold{{Kind: nudge.HoldBankruptcy, Reason: "ch. 13"}, {Kind: nudge.HoldDispute}}, got.Holds)

	require.NoError(t, s.ClearHold(ctx, "acme", "A-1", nudge.HoldBankruptcy, T0))
	require.NoError(t, s.ClearHold(ctx, "acme", "A-1", nudge.HoldBankruptcy, T0), "clearing twice is harmless")
	got, err = s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, []nudge.Hold{{Kind: nudge.HoldDispute}}, got.Holds)
}

func testContactStateAndLookup(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("beta", "B-1")}, T0))
	other := Account("acme", "A-2")
	other.Contacts = []nudge.Contact{{Channel: nudge.SMS, Address: "+15125550199", Consent: true}}
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{other}, T0))

	require.NoError(t, s.SetContactState(ctx, "acme", "A-1", nudge.Email, "ana@example.com", nudge.ContactUndeliverable))
	require.ErrorIs(t, s.SetContactState(ctx, "acme", "A-1", nudge.Email, "nobody@example.com", nudge.ContactUndeliverable), nudge.ErrNotFound)
	got, err := s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.ContactUndeliverable, got.ContactsFor(nudge.Email)[0].State)
	require.NoError(t, s.SetContactState(ctx, "acme", "A-1", nudge.Email, "ana@example.com", nudge.ContactOK))
	got, err = s.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, nudge.ContactOK, got.ContactsFor(nudge.Email)[0].State)

	found, err := s.AccountsByAddress(ctx, nudge.SMS, "+15125550100")
	require.NoError(t, err)
	require.Len(t, found, 2)
	require.Equal(t, "acme", found[0].Lender)
	require.Equal(t, "beta", found[1].Lender)
	require.Len(t, found[0].Contacts, 3)
	found, err = s.AccountsByAddress(ctx, nudge.Email, "+15125550100")
	require.NoError(t, err)
	require.Empty(t, found)
}

func testCadences(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	v1, err := s.PutCadence(ctx, "acme", "standard", []byte("steps: [a]"), T0)
	require.NoError(t, err)
	require.Equal(t, 1, v1)
	v2, err := s.PutCadence(ctx, "acme", "standard", []byte("steps: [a, b]"), T0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, v2)
	v1b, err := s.PutCadence(ctx, "beta", "standard", []byte("steps: [x]"), T0)
	require.NoError(t, err)
	require.Equal(t, 1, v1b, "versions count per lender and name")

	active, err := s.ActiveCadences(ctx, "acme")
	require.NoError(t, err)
	require.Empty(t, active, "a stored version is not active until activated")
	require.ErrorIs(t, s.ActivateCadence(ctx, "acme", "standard", 3), nudge.ErrNotFound)

	require.NoError(t, s.ActivateCadence(ctx, "acme", "standard", 1))
	require.NoError(t, s.ActivateCadence(ctx, "acme", "standard", 2))
	active, err = s.ActiveCadences(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, active, 1)
	require.Equal(t, nudge.CadenceVersion{Lender: "acme", Name: "standard", Version: 2, Source: []byte("steps: [a, b]"),
		Active: true, CreatedAt: T0.Add(time.Hour)}, active[0])

	got, err := s.GetCadence(ctx, "acme", "standard", 1)
	require.NoError(t, err)
	require.False(t, got.Active)
	require.Equal(t, []byte("steps: [a]"), got.Source)
	_, err = s.GetCadence(ctx, "beta", "standard", 2)
	require.ErrorIs(t, err, nudge.ErrNotFound)

	all, err := s.ListCadences(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, 1, all[0].Version)
	require.Equal(t, 2, all[1].Version)
}

// Reminder returns a fixture reminder for the account's step.
func Reminder(lender, accountID, step string, dueAt time.Time) nudge.Reminder {
	key := nudge.ReminderKey{Lender: lender, AccountID: accountID, Cadence: "standard", Step: step, Cycle: nudge.MustDate("2026-06-05")}
	return nudge.Reminder{
		ID: key.ID(), Key: key, CadenceVersion: 2, Channel: nudge.SMS, Fallback: nudge.Email, Template: "due_soon",
		DueAt: dueAt, ExpiresAt: dueAt.Add(8 * time.Hour), Status: nudge.ReminderPlanned, NextAt: dueAt,
		CreatedAt: T0, UpdatedAt: T0,
	}
}

func testRemindersNaturalKey(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	r1 := Reminder("acme", "A-1", "d-3", T0.Add(time.Hour))
	r2 := Reminder("acme", "A-1", "d0", T0.Add(72*time.Hour))
	r2.BrokenPromise = true
	ins, err := s.InsertReminders(ctx, []nudge.Reminder{r1, r2})
	require.NoError(t, err)
	require.Equal(t, []nudge.Reminder{r1, r2}, ins)

	// A second scheduler replica plans the same steps, plus one more.
	again := r1
	again.Template = "changed"
	r3 := Reminder("acme", "A-1", "d+3", T0.Add(144*time.Hour))
	r3.ID, r3.Status, r3.NextAt, r3.UpdatedAt = "", "", time.Time{}, time.Time{}
	ins, err = s.InsertReminders(ctx, []nudge.Reminder{again, r2, r3})
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, r3.Key.ID(), ins[0].ID, "the id defaults to the key's")
	require.Equal(t, nudge.ReminderPlanned, ins[0].Status)
	require.Equal(t, r3.DueAt, ins[0].NextAt, "next at defaults to due at")

	got, err := s.GetReminder(ctx, r1.ID)
	require.NoError(t, err)
	require.Equal(t, r1, got, "the first insert wins")
	_, err = s.GetReminder(ctx, "rem_missing")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	list, err := s.ListReminders(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, r1.ID, list[0].ID)
	require.Equal(t, r3.Key.ID(), list[2].ID)
	list, err = s.ListReminders(ctx, "beta", "A-1")
	require.NoError(t, err)
	require.Empty(t, list)
}

func testReminderStatus(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	r := Reminder("acme", "A-1", "d-3", T0)
	_, err := s.InsertReminders(ctx, []nudge.Reminder{r})
	require.NoError(t, err)

	later := T0.Add(3 * time.Hour)
	require.NoError(t, s.SetReminderStatus(ctx, r.ID, nudge.ReminderDeferred, nudge.ReasonQuietHours, later, T0.Add(time.Minute)))
	got, err := s.GetReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderDeferred, got.Status)
	require.Equal(t, nudge.ReasonQuietHours, got.Reason)
	require.Equal(t, later, got.NextAt)
	require.Equal(t, T0.Add(time.Minute), got.UpdatedAt)

	require.NoError(t, s.SetReminderStatus(ctx, r.ID, nudge.ReminderQueued, "", time.Time{}, T0.Add(2*time.Minute)))
	got, err = s.GetReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, later, got.NextAt, "a zero next at keeps the stored one")

	require.NoError(t, s.SetReminderStatus(ctx, r.ID, nudge.ReminderSent, "", time.Time{}, T0.Add(3*time.Minute)))
	err = s.SetReminderStatus(ctx, r.ID, nudge.ReminderCanceled, nudge.ReasonCanceled, time.Time{}, T0.Add(4*time.Minute))
	require.ErrorIs(t, err, nudge.ErrConflict)
	got, err = s.GetReminder(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, got.Status, "a terminal status never changes")

	err = s.SetReminderStatus(ctx, "rem_missing", nudge.ReminderQueued, "", time.Time{}, T0)
	require.ErrorIs(t, err, nudge.ErrNotFound)
}

// testMoveOpenReminders: a page of changes moves the reminders still open,
// leaves the terminal and the missing ones alone, and writes the events of
// the moved ones only; a bad change writes nothing.
func testMoveOpenReminders(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	queued := Reminder("acme", "A-1", "s1", T0.Add(-time.Hour))
	stale := Reminder("acme", "A-1", "s2", T0.Add(-2*time.Hour))
	sent := Reminder("acme", "A-2", "s1", T0.Add(-time.Hour))
	_, err := s.InsertReminders(ctx, []nudge.Reminder{queued, stale, sent})
	require.NoError(t, err)
	require.NoError(t, s.SetReminderStatus(ctx, queued.ID, nudge.ReminderQueued, "", time.Time{}, T0))
	require.NoError(t, s.SetReminderStatus(ctx, sent.ID, nudge.ReminderSent, "", time.Time{}, T0))
	at := T0.Add(5 * time.Minute)
	event := func(r nudge.Reminder, kind nudge.EventKind) nudge.Event {
		return nudge.Event{Lender: r.Key.Lender, AccountID: r.Key.AccountID, ReminderID: r.ID, Kind: kind, At: at}
	}
	const missing = "rem_missing"

	// A change of an unknown status is refused, and nothing of the page is written.
	_, err = s.MoveOpenReminders(ctx, []nudge.ReminderChange{
		{ID: queued.ID, Status: nudge.ReminderQueued, NextAt: at, At: at},
		{ID: stale.ID, Status: "lost", At: at},
	}, []nudge.Event{event(queued, nudge.EventEnqueued)})
	require.ErrorContains(t, err, stale.ID)
	_, err = s.MoveOpenReminders(ctx, []nudge.ReminderChange{
		{ID: queued.ID, Status: nudge.ReminderQueued, At: at}, {ID: queued.ID, Status: nudge.ReminderExpired, At: at},
	}, nil)
	require.ErrorContains(t, err, "named twice")
	got, err := s.GetReminder(ctx, queued.ID)
	require.NoError(t, err)
	require.Equal(t, T0, got.UpdatedAt, "a refused page writes nothing")

	moved, err := s.MoveOpenReminders(ctx, []nudge.ReminderChange{
		{ID: stale.ID, Status: nudge.ReminderExpired, Reason: nudge.ReasonExpired, At: at},
		{ID: queued.ID, Status: nudge.ReminderQueued, NextAt: at, At: at},
		{ID: sent.ID, Status: nudge.ReminderQueued, NextAt: at, At: at},
		{ID: missing, Status: nudge.ReminderQueued, NextAt: at, At: at},
	}, []nudge.Event{event(stale, nudge.EventExpired), event(queued, nudge.EventEnqueued), event(sent, nudge.EventEnqueued),
		{Lender: "acme", AccountID: "A-9", ReminderID: missing, Kind: nudge.EventEnqueued, At: at}})
	require.NoError(t, err)
	require.Equal(t, slices.Sorted(slices.Values([]string{stale.ID, queued.ID})), moved)

	got, err = s.GetReminder(ctx, queued.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderQueued, got.Status)
	require.Equal(t, at, got.NextAt)
	require.Equal(t, at, got.UpdatedAt)
	got, err = s.GetReminder(ctx, stale.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderExpired, got.Status)
	require.Equal(t, nudge.ReasonExpired, got.Reason)
	require.Equal(t, stale.NextAt, got.NextAt, "a change without NextAt keeps it")
	got, err = s.GetReminder(ctx, sent.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, got.Status, "a terminal reminder is not moved")
	require.Equal(t, T0, got.UpdatedAt)

	kinds := map[string][]nudge.EventKind{}
	for _, acct := range []string{"A-1", "A-2", "A-9"} {
		events, err := s.Events(ctx, "acme", acct)
		require.NoError(t, err)
		for _, e := range events {
			kinds[e.ReminderID] = append(kinds[e.ReminderID], e.Kind)
		}
	}
	require.Equal(t, map[string][]nudge.EventKind{stale.ID: {nudge.EventExpired}, queued.ID: {nudge.EventEnqueued}}, kinds,
		"only the moved reminders' events are written")
}

func testPendingAndCancel(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	early := Reminder("acme", "A-1", "s1", T0.Add(-2*time.Hour))
	mid := Reminder("acme", "A-1", "s2", T0.Add(-time.Hour))
	future := Reminder("acme", "A-1", "s3", T0.Add(time.Hour))
	done := Reminder("acme", "A-1", "s4", T0.Add(-3*time.Hour))
	otherAcct := Reminder("acme", "A-2", "s1", T0.Add(-30*time.Minute))
	otherLender := Reminder("beta", "A-1", "s1", T0.Add(-30*time.Minute))
	_, err := s.InsertReminders(ctx, []nudge.Reminder{early, mid, future, done, otherAcct, otherLender})
	require.NoError(t, err)
	require.NoError(t, s.SetReminderStatus(ctx, done.ID, nudge.ReminderSent, "", time.Time{}, T0))
	require.NoError(t, s.SetReminderStatus(ctx, mid.ID, nudge.ReminderQueued, "", time.Time{}, T0))

	pending, err := s.PendingReminders(ctx, T0, 10)
	require.NoError(t, err)
	var ids []string
	for _, r := range pending {
		ids = append(ids, r.ID)
	}
	require.Len(t, ids, 4)
	require.Equal(t, early.ID, ids[0], "earliest first")
	require.Equal(t, mid.ID, ids[1])
	require.NotContains(t, ids, done.ID)
	require.NotContains(t, ids, future.ID)
	pending, err = s.PendingReminders(ctx, T0, 1)
	require.NoError(t, err)
	require.Len(t, pending, 1)

	canceled, err := s.CancelReminders(ctx, "acme", "A-1", nudge.ReasonCanceled, T0)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{early.ID, mid.ID, future.ID}, canceled)
	again, err := s.CancelReminders(ctx, "acme", "A-1", nudge.ReasonCanceled, T0)
	require.NoError(t, err)
	require.Empty(t, again)
	got, err := s.GetReminder(ctx, future.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderCanceled, got.Status)
	require.Equal(t, nudge.ReasonCanceled, got.Reason)
	got, err = s.GetReminder(ctx, done.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, got.Status)

	counts, err := s.CountRemindersByStatus(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, map[nudge.ReminderStatus]int{nudge.ReminderCanceled: 3, nudge.ReminderSent: 1, nudge.ReminderPlanned: 1}, counts)
	counts, err = s.CountRemindersByStatus(ctx, "")
	require.NoError(t, err)
	require.Equal(t, 2, counts[nudge.ReminderPlanned])
}

// Attempt returns a fixture attempt for the reminder, created at.
func Attempt(reminderID, accountID string, channel nudge.ChannelKind, at time.Time) nudge.Attempt {
	return nudge.Attempt{
		ReminderID: reminderID, Lender: "acme", AccountID: accountID, Channel: channel,
		Address: "+15125550100", Zones: []string{"America/Chicago"}, Profile: "us", CreatedAt: at,
	}
}

func testClaimAttempt(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	a := Attempt("rem_1", "A-1", nudge.SMS, T0)
	got, err := s.ClaimAttempt(ctx, a, nil)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	require.Equal(t, nudge.AttemptSending, got.Status)

	stored, err := s.GetAttempt(ctx, got.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)
	require.Equal(t, []string{"America/Chicago"}, stored.Zones)

	second := Attempt("rem_1", "A-1", nudge.SMS, T0.Add(time.Minute))
	second.ID = "att_other"
	prev, err := s.ClaimAttempt(ctx, second, nil)
	require.ErrorIs(t, err, nudge.ErrAlreadyClaimed)
	require.Equal(t, got.ID, prev.ID, "the existing claim is returned")

	// The same reminder may be claimed once per channel.
	fallback, err := s.ClaimAttempt(ctx, Attempt("rem_1", "A-1", nudge.Email, T0), nil)
	require.NoError(t, err)
	require.NotEqual(t, got.ID, fallback.ID)

	_, err = s.GetAttempt(ctx, "att_missing")
	require.ErrorIs(t, err, nudge.ErrNotFound)
}

func testClaimCaps(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	day, week := 24*time.Hour, 7*24*time.Hour
	tests := []struct {
		name      string
		otherAddr bool
		limit     nudge.CapLimit
		reached   bool
	}{
		{name: "all within a week reached", limit: nudge.CapLimit{Channel: nudge.Voice, Window: week, Max: 5, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}, reached: true},
		{name: "all within a week under", limit: nudge.CapLimit{Channel: nudge.Voice, Window: week, Max: 6, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}},
		{name: "window excludes older", limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 5, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}},
		{name: "other channel not counted", limit: nudge.CapLimit{Channel: nudge.SMS, Window: week, Max: 1, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}},
		// completed (human), no-answer and completed (machine) count as calls; busy and failed do not.
		{name: "calls reached", limit: nudge.CapLimit{Channel: nudge.Voice, Window: week, Max: 3, Count: nudge.CountCalls, Reason: nudge.ReasonCallCap, Rule: "reg_f_7_in_7"}, reached: true},
		{name: "calls under", limit: nudge.CapLimit{Channel: nudge.Voice, Window: week, Max: 4, Count: nudge.CountCalls, Reason: nudge.ReasonCallCap}},
		// busy, no-answer, machine and failed are unanswered; the human answer is not.
		{name: "unanswered reached", limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 4, Count: nudge.CountUnanswered, Reason: nudge.ReasonUnansweredCap}, reached: true},
		{name: "unanswered under", limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 5, Count: nudge.CountUnanswered, Reason: nudge.ReasonUnansweredCap}},
		// Per address: busy, no-answer and machine on this account plus the
		// no-answer from the lender's other account to the same number.
		{name: "per address reached", limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 4, Count: nudge.CountUnanswered, PerAddress: true, Reason: nudge.ReasonUnansweredCap}, reached: true},
		{name: "per address under", limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 5, Count: nudge.CountUnanswered, PerAddress: true, Reason: nudge.ReasonUnansweredCap}},
		{name: "per address other number", otherAddr: true, limit: nudge.CapLimit{Channel: nudge.Voice, Window: day, Max: 2, Count: nudge.CountUnanswered, PerAddress: true, Reason: nudge.ReasonUnansweredCap}},
		{name: "zero max always reached", limit: nudge.CapLimit{Channel: nudge.Email, Window: day, Max: 0, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}, reached: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each case has its own account and numbers: five earlier calls
			// over the last 30 hours, and one from another account.
			acct := fmt.Sprintf("C-%d", i)
			main, second := fmt.Sprintf("+1512555%04d", 2*i), fmt.Sprintf("+1512555%04d", 2*i+1)
			history := []struct {
				status     nudge.AttemptStatus
				answeredBy string
				address    string
				ago        time.Duration
			}{
				{nudge.AttemptCompleted, "human", main, 30 * time.Hour},
				{nudge.AttemptBusy, "", main, 5 * time.Hour},
				{nudge.AttemptNoAnswer, "", main, 4 * time.Hour},
				{nudge.AttemptCompleted, "machine_start", main, 3 * time.Hour},
				{nudge.AttemptFailed, "", second, 2 * time.Hour},
			}
			for j, h := range history {
				a := Attempt(fmt.Sprintf("rem_%s_h%d", acct, j), acct, nudge.Voice, T0.Add(-h.ago))
				a.Address, a.Status, a.AnsweredBy = h.address, h.status, h.answeredBy
				_, err := s.ClaimAttempt(ctx, a, nil)
				require.NoError(t, err)
			}
			elsewhere := Attempt(fmt.Sprintf("rem_%s_x", acct), acct+"-other", nudge.Voice, T0.Add(-time.Hour))
			elsewhere.Address, elsewhere.Status = main, nudge.AttemptNoAnswer
			_, err := s.ClaimAttempt(ctx, elsewhere, nil)
			require.NoError(t, err)

			a := Attempt(fmt.Sprintf("rem_%s_new", acct), acct, tc.limit.Channel, T0)
			a.Address = main
			if tc.otherAddr {
				a.Address = second
			}
			got, err := s.ClaimAttempt(ctx, a, []nudge.CapLimit{tc.limit})
			if !tc.reached {
				require.NoError(t, err)
				require.NotEmpty(t, got.ID)
				return
			}
			require.ErrorIs(t, err, nudge.ErrCapReached)
			require.Contains(t, err.Error(), string(tc.limit.Reason))
			hist, err := s.AttemptHistory(ctx, "acme", acct, T0)
			require.NoError(t, err)
			require.Empty(t, hist, "nothing is claimed when a cap is reached")
		})
	}
}

func testClaimConcurrentCap(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	const (
		n      = 20
		rounds = 4 // the first also warms connection pools, so later rounds truly race
	)
	limit := nudge.CapLimit{Channel: nudge.SMS, Window: 24 * time.Hour, Max: 1, Count: nudge.CountAll, Reason: nudge.ReasonFrequencyCap}
	for r := range rounds {
		acct := fmt.Sprintf("A-%d", r)
		var (
			wg               sync.WaitGroup
			mu               sync.Mutex
			claimed, reached int
			others           []error
		)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				a := Attempt(fmt.Sprintf("rem_%s_%d", acct, i), acct, nudge.SMS, T0.Add(time.Duration(i)*time.Second))
				_, err := s.ClaimAttempt(ctx, a, []nudge.CapLimit{limit})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					claimed++
				case errors.Is(err, nudge.ErrCapReached):
					reached++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Empty(t, others)
		require.Equal(t, 1, claimed, "round %d: exactly one concurrent claim fits under Max=1", r)
		require.Equal(t, n-1, reached)
		hist, err := s.AttemptHistory(ctx, "acme", acct, T0.Add(-time.Hour))
		require.NoError(t, err)
		require.Len(t, hist, 1)
	}
}

func testClaimConcurrentSameReminder(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	const n = 10
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		claimed int
		others  []error
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := s.ClaimAttempt(ctx, Attempt("rem_same", "A-1", nudge.Voice, T0), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				claimed++
				ids[a.ID]++
			case errors.Is(err, nudge.ErrAlreadyClaimed):
				ids[a.ID]++
			default:
				others = append(others, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Empty(t, others)
	require.Equal(t, 1, claimed)
	require.Len(t, ids, 1, "every caller sees the one stored attempt")
}

func testUpdateAttempt(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	tests := []struct {
		name    string
		initial nudge.AttemptStatus
		updates []nudge.AttemptUpdate
		changed []bool
		want    func(t *testing.T, a nudge.Attempt)
	}{
		{
			name:    "compare-and-set releases and re-claims within a rank",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{From: nudge.AttemptSending, Status: nudge.AttemptRetrying, At: T0.Add(time.Second)},
				{From: nudge.AttemptSending, Status: nudge.AttemptRetrying, At: T0.Add(2 * time.Second)},
				{From: nudge.AttemptRetrying, Status: nudge.AttemptSending, At: T0.Add(3 * time.Second)},
				{Status: nudge.AttemptRetrying, At: T0.Add(4 * time.Second)},
			},
			changed: []bool{true, false, true, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptSending, a.Status, "a plain update never moves within a rank")
				require.Equal(t, T0.Add(3*time.Second), a.UpdatedAt)
			},
		},
		{
			name:    "compare-and-set never moves a final status",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptDelivered, At: T0.Add(time.Second)},
				{From: nudge.AttemptDelivered, Status: nudge.AttemptSending, At: T0.Add(2 * time.Second)},
			},
			changed: []bool{true, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptDelivered, a.Status)
			},
		},
		{
			name:    "forward with provider id",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptSent, ProviderID: "SM1", SentAt: T0.Add(time.Second), At: T0.Add(time.Second)},
				{Status: nudge.AttemptDelivered, At: T0.Add(time.Minute)},
			},
			changed: []bool{true, true},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptDelivered, a.Status)
				require.Equal(t, "SM1", a.ProviderID)
				require.Equal(t, T0.Add(time.Second), a.SentAt)
				require.Equal(t, T0.Add(time.Minute), a.UpdatedAt)
			},
		},
		{
			name:    "never backwards",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptDelivered, At: T0.Add(time.Minute)},
				{Status: nudge.AttemptSent, At: T0.Add(2 * time.Minute)},
				{Status: nudge.AttemptSending, At: T0.Add(3 * time.Minute)},
			},
			changed: []bool{true, false, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptDelivered, a.Status)
				require.Equal(t, T0.Add(time.Minute), a.UpdatedAt)
			},
		},
		{
			name:    "first final wins",
			initial: nudge.AttemptSent,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptUndelivered, ErrorCode: "30003", Reason: nudge.ReasonProviderFailed, At: T0.Add(time.Minute)},
				{Status: nudge.AttemptDelivered, At: T0.Add(2 * time.Minute)},
				{Status: nudge.AttemptFailed, ErrorCode: "30007", At: T0.Add(3 * time.Minute)},
			},
			changed: []bool{true, false, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptUndelivered, a.Status)
				require.Equal(t, "30003", a.ErrorCode)
				require.Equal(t, nudge.ReasonProviderFailed, a.Reason)
			},
		},
		{
			name:    "idempotent",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptRinging, ProviderID: "CA1", At: T0.Add(time.Second)},
				{Status: nudge.AttemptRinging, ProviderID: "CA1", At: T0.Add(2 * time.Second)},
			},
			changed: []bool{true, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptRinging, a.Status)
				require.Equal(t, T0.Add(time.Second), a.UpdatedAt)
			},
		},
		{
			name:    "late details on a final call",
			initial: nudge.AttemptSent,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptCompleted, At: T0.Add(time.Minute)},
				{Status: nudge.AttemptAnswered, AnsweredBy: "human", Conversation: true, At: T0.Add(2 * time.Minute)},
				{Conversation: false, At: T0.Add(3 * time.Minute)},
			},
			changed: []bool{true, true, false},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptCompleted, a.Status)
				require.Equal(t, "human", a.AnsweredBy)
				require.True(t, a.Conversation, "a conversation is never unset")
			},
		},
		{
			name:    "unknown then sent",
			initial: nudge.AttemptSending,
			updates: []nudge.AttemptUpdate{
				{Status: nudge.AttemptUnknown, Reason: nudge.ReasonUnknownOutcome, At: T0.Add(time.Minute)},
				{Status: nudge.AttemptSent, ProviderID: "SM9", At: T0.Add(2 * time.Minute)},
			},
			changed: []bool{true, true},
			want: func(t *testing.T, a nudge.Attempt) {
				require.Equal(t, nudge.AttemptSent, a.Status)
				require.Equal(t, "SM9", a.ProviderID)
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Attempt(fmt.Sprintf("rem_u%d", i), "A-1", nudge.SMS, T0)
			a.Status = tc.initial
			a, err := s.ClaimAttempt(ctx, a, nil)
			require.NoError(t, err)
			for j, u := range tc.updates {
				changed, err := s.UpdateAttempt(ctx, a.ID, u)
				require.NoError(t, err)
				require.Equal(t, tc.changed[j], changed, "update %d", j)
			}
			got, err := s.GetAttempt(ctx, a.ID)
			require.NoError(t, err)
			tc.want(t, got)
		})
	}
	_, err := s.UpdateAttempt(ctx, "att_missing", nudge.AttemptUpdate{Status: nudge.AttemptSent})
	require.ErrorIs(t, err, nudge.ErrNotFound)
}

func testAttemptQueries(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	var ids []string
	for i, acct := range []string{"A-1", "A-1", "A-2", "A-1"} {
		a, err := s.ClaimAttempt(ctx, Attempt(fmt.Sprintf("rem_q%d", i), acct, nudge.SMS, T0.Add(time.Duration(i)*time.Hour)), nil)
		require.NoError(t, err)
		ids = append(ids, a.ID)
	}
	other := Attempt("rem_b", "A-1", nudge.SMS, T0)
	other.Lender = "beta"
	_, err := s.ClaimAttempt(ctx, other, nil)
	require.NoError(t, err)

	_, err = s.UpdateAttempt(ctx, ids[1], nudge.AttemptUpdate{Status: nudge.AttemptSent, ProviderID: "SMabc", At: T0})
	require.NoError(t, err)
	got, err := s.AttemptByProviderID(ctx, "SMabc")
	require.NoError(t, err)
	require.Equal(t, ids[1], got.ID)
	_, err = s.AttemptByProviderID(ctx, "SMnope")
	require.ErrorIs(t, err, nudge.ErrNotFound)
	_, err = s.AttemptByProviderID(ctx, "")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	hist, err := s.AttemptHistory(ctx, "acme", "A-1", T0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, ids[1], hist[0].ID, "oldest first")
	require.Equal(t, ids[3], hist[1].ID)

	all, err := s.ListAttempts(ctx, "acme", time.Time{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	all, err = s.ListAttempts(ctx, "beta", T0)
	require.NoError(t, err)
	require.Len(t, all, 1)
}

func testReplies(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	r := nudge.Reply{Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, From: "+15125550100", To: "+15125550000",
		Body: "STOP", Intent: nudge.IntentOptOut, ProviderID: "SM1", CreatedAt: T0}
	isNew, err := s.InsertReply(ctx, r)
	require.NoError(t, err)
	require.True(t, isNew)
	isNew, err = s.InsertReply(ctx, r)
	require.NoError(t, err)
	require.False(t, isNew, "a provider retry is stored once")

	web := nudge.Reply{Lender: "acme", AccountID: "A-1", Channel: nudge.Email, Body: "call me", Intent: nudge.IntentTalkToPerson,
		NeedsPerson: true, CreatedAt: T0.Add(time.Minute)}
	for range 2 {
		isNew, err = s.InsertReply(ctx, web)
		require.NoError(t, err)
		require.True(t, isNew, "replies without a provider id are never de-duplicated")
	}

	all, err := s.ListReplies(ctx, "acme", false)
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, "STOP", all[0].Body)
	require.Equal(t, "+15125550100", all[0].From)
	require.NotEmpty(t, all[0].ID)
	person, err := s.ListReplies(ctx, "acme", true)
	require.NoError(t, err)
	require.Len(t, person, 2)
	none, err := s.ListReplies(ctx, "beta", false)
	require.NoError(t, err)
	require.Empty(t, none)
}

func testPromises(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	_, err := s.ActivePromise(ctx, "acme", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	p := nudge.Promise{ID: "prm_1", Lender: "acme", AccountID: "A-1", Amount: "200.00", Currency: "USD",
		Due: nudge.MustDate("2026-06-10"), Channel: nudge.SMS, ReplyID: "rep_1", CreatedAt: T0}
	require.NoError(t, s.InsertPromise(ctx, p))
	require.ErrorIs(t, s.InsertPromise(ctx, p), nudge.ErrConflict)
	p2 := nudge.Promise{Lender: "acme", AccountID: "A-2", Amount: "50.00", Currency: "USD",
		Due: nudge.MustDate("2026-06-03"), Channel: nudge.Voice, CreatedAt: T0}
	require.NoError(t, s.InsertPromise(ctx, p2))

	got, err := s.ActivePromise(ctx, "acme", "A-1")
	require.NoError(t, err)
	p.Status, p.UpdatedAt = nudge.PromisePending, T0
	require.Equal(t, p, got)
	_, err = s.ActivePromise(ctx, "beta", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	due, err := s.PendingPromisesDueBefore(ctx, nudge.MustDate("2026-06-10"))
	require.NoError(t, err)
	require.Len(t, due, 1, "a promise due on the day is not yet broken")
	require.Equal(t, "A-2", due[0].AccountID)
	due, err = s.PendingPromisesDueBefore(ctx, nudge.MustDate("2026-06-11"))
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.Equal(t, "A-2", due[0].AccountID, "earliest date first")

	require.NoError(t, s.SetPromiseStatus(ctx, "prm_1", nudge.PromiseKept, T0.Add(time.Hour)))
	require.NoError(t, s.SetPromiseStatus(ctx, "prm_1", nudge.PromiseKept, T0.Add(2*time.Hour)), "setting the same status again is harmless")
	require.ErrorIs(t, s.SetPromiseStatus(ctx, "prm_1", nudge.PromiseBroken, T0.Add(time.Hour)), nudge.ErrConflict)
	require.ErrorIs(t, s.SetPromiseStatus(ctx, "prm_missing", nudge.PromiseKept, T0), nudge.ErrNotFound)
	_, err = s.ActivePromise(ctx, "acme", "A-1")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	list, err := s.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, nudge.PromiseKept, list[0].Status)
	require.Equal(t, T0.Add(time.Hour), list[0].UpdatedAt)
}

func testOptOuts(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	o := nudge.OptOut{Lender: "acme", Channel: nudge.Email, Address: " Ana@Example.COM ", Source: "email_link", CreatedAt: T0}
	isNew, err := s.AddOptOut(ctx, o)
	require.NoError(t, err)
	require.True(t, isNew)
	o.Address = "ana@example.com"
	isNew, err = s.AddOptOut(ctx, o)
	require.NoError(t, err)
	require.False(t, isNew, "the same address normalised is one opt-out")

	tests := []struct {
		name    string
		lender  string
		channel nudge.ChannelKind
		address string
		want    bool
	}{
		{name: "same", lender: "acme", channel: nudge.Email, address: "ana@example.com", want: true},
		{name: "case and space", lender: "acme", channel: nudge.Email, address: "ANA@example.com  ", want: true},
		{name: "other channel", lender: "acme", channel: nudge.SMS, address: "ana@example.com"},
		{name: "other lender", lender: "beta", channel: nudge.Email, address: "ana@example.com"},
		{name: "other address", lender: "acme", channel: nudge.Email, address: "bo@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.IsOptedOut(ctx, tc.lender, tc.channel, tc.address)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	_, err = s.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: "+15125550100", Source: "sms_keyword", CreatedAt: T0.Add(time.Minute)})
	require.NoError(t, err)
	list, err := s.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, nudge.Email, list[0].Channel)
	require.Len(t, list[0].AddressHash, 64, "a hex SHA-256")
	require.Equal(t, "email_link", list[0].Source)

	removed, err := s.RemoveOptOut(ctx, "acme", nudge.Email, "ANA@example.com")
	require.NoError(t, err)
	require.True(t, removed)
	removed, err = s.RemoveOptOut(ctx, "acme", nudge.Email, "ana@example.com")
	require.NoError(t, err)
	require.False(t, removed)
	out, err := s.IsOptedOut(ctx, "acme", nudge.Email, "ana@example.com")
	require.NoError(t, err)
	require.False(t, out)
	out, err = s.IsOptedOut(ctx, "acme", nudge.SMS, "+15125550100")
	require.NoError(t, err)
	require.True(t, out)
}

func testEventsAndAudit(t *testing.T, s nudge.Store) {
	ctx := context.Background()
	events := []nudge.Event{
		{Lender: "acme", AccountID: "A-1", ReminderID: "rem_1", Kind: nudge.EventPlanned, At: T0},
		{Lender: "acme", AccountID: "A-1", ReminderID: "rem_1", Kind: nudge.EventDecision, Action: "defer",
			Reason: nudge.ReasonQuietHours, Rule: "us.quiet_hours", Detail: json.RawMessage(`{"until":"2026-06-02T13:00:00Z"}`), At: T0},
		{Lender: "acme", AccountID: "A-2", Kind: nudge.EventPlanned, At: T0},
		{Lender: "beta", AccountID: "A-1", Kind: nudge.EventPlanned, At: T0},
		{Lender: "acme", AccountID: "A-1", AttemptID: "att_1", Kind: nudge.EventAttempt, At: T0.Add(-time.Minute)},
	}
	for _, e := range events {
		require.NoError(t, s.AppendEvent(ctx, e))
	}
	require.Error(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", Kind: nudge.EventPlanned}), "an event needs a time")

	got, err := s.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, nudge.EventPlanned, got[0].Kind, "in append order")
	require.Equal(t, nudge.EventAttempt, got[2].Kind, "in append order, not by time")
	require.Less(t, got[0].ID, got[1].ID)
	require.JSONEq(t, `{"until":"2026-06-02T13:00:00Z"}`, string(got[1].Detail))
	require.Equal(t, nudge.ReasonQuietHours, got[1].Reason)
	require.Equal(t, "us.quiet_hours", got[1].Rule)
	require.Equal(t, T0, got[1].At)

	require.NoError(t, s.AppendAudit(ctx, nudge.AuditEntry{Lender: "acme", Actor: "key1", Action: "account.upsert", Target: "A-1", At: T0}))
	require.NoError(t, s.AppendAudit(ctx, nudge.AuditEntry{Lender: "beta", Actor: "cli", Action: "cadence.activate", Detail: "v2", At: T0}))
	audit, err := s.ListAudit(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, "key1", audit[0].Actor)
	require.Equal(t, T0, audit[0].At)
	audit, err = s.ListAudit(ctx, "")
	require.NoError(t, err)
	require.Len(t, audit, 2)
}
