package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// KPIStore computes KPI counters over the ledger and keeps their daily
// rollups. The suite checks it when the store under test implements it.
type KPIStore interface {
	KPIs(ctx context.Context, q store.KPIQuery) ([]store.KPIRow, error)
	RollupKPIs(ctx context.Context, lender string, now time.Time, cureDays int) (store.RollupResult, error)
}

// kpiLedger builds a small ledger whose every KPI is worked out by hand in
// testKPIs: three accounts of acme with one cycle each (due 2026-06-01),
// six accepted attempts over 06-01 and 06-02, one claimed attempt that
// never reached the provider, and one attempt of another lender.
func kpiLedger(t *testing.T, s nudge.Store) {
	t.Helper()
	ctx := context.Background()
	day := 24 * time.Hour
	a3 := Account("acme", "A-3")
	a3.Borrower.Language = "en"
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{Account("acme", "A-1"), Account("acme", "A-2"), a3, Account("beta", "A-1")}, T0))
	cycle := nudge.MustDate("2026-06-01")
	attempt := func(lender, acct, step string, ch nudge.ChannelKind, at time.Time, u nudge.AttemptUpdate) {
		t.Helper()
		rs, err := s.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: lender, AccountID: acct, Cadence: "c", Step: step,
			Cycle: cycle}, CadenceVersion: 1, Channel: ch, DueAt: at, CreatedAt: at}})
		require.NoError(t, err)
		require.Len(t, rs, 1)
		a, err := s.ClaimAttempt(ctx, nudge.Attempt{ReminderID: rs[0].ID, Lender: lender, AccountID: acct, Channel: ch,
			Address: "+15125550100", Status: nudge.AttemptSending, CreatedAt: at}, nil)
		require.NoError(t, err)
		if u.Status == "" {
			return
		}
		u.At = at
		// Half the updates go through the batched outcome path.
		if step == "s2" {
			res := s.RecordOutcomes(ctx, []nudge.Outcome{{AttemptID: a.ID, Attempt: u}})
			require.NoError(t, res[0].Err)
			return
		}
		_, err = s.UpdateAttempt(ctx, a.ID, u)
		require.NoError(t, err)
	}
	attempt("acme", "A-1", "s1", nudge.SMS, T0, nudge.AttemptUpdate{Status: nudge.AttemptDelivered, Segments: 2})
	attempt("acme", "A-1", "s2", nudge.Voice, T0.Add(day), nudge.AttemptUpdate{Status: nudge.AttemptCompleted, AnsweredBy: "human",
		Conversation: true, CallSeconds: 61})
	attempt("acme", "A-2", "s1", nudge.SMS, T0.Add(time.Hour), nudge.AttemptUpdate{Status: nudge.AttemptUndelivered, Segments: 1})
	attempt("acme", "A-2", "s2", nudge.Email, T0.Add(day+time.Hour), nudge.AttemptUpdate{Status: nudge.AttemptDelivered})
	attempt("acme", "A-3", "s1", nudge.SMS, T0.Add(2*time.Hour), nudge.AttemptUpdate{Status: nudge.AttemptDelivered, Segments: 1})
	attempt("acme", "A-3", "s2", nudge.Voice, T0.Add(day), nudge.AttemptUpdate{Status: nudge.AttemptNoAnswer})
	attempt("acme", "A-3", "s3", nudge.SMS, T0.Add(day), nudge.AttemptUpdate{}) // never passed the last gate
	attempt("beta", "A-1", "s1", nudge.SMS, T0, nudge.AttemptUpdate{Status: nudge.AttemptDelivered, Segments: 3})

	reply := func(acct string, intent nudge.Intent, at time.Time) {
		t.Helper()
		_, err := s.InsertReply(ctx, nudge.Reply{Lender: "acme", AccountID: acct, Channel: nudge.SMS, Body: string(intent), Intent: intent, CreatedAt: at})
		require.NoError(t, err)
	}
	reply("A-1", nudge.IntentPromise, T0.Add(2*time.Hour))
	reply("A-2", nudge.IntentOptOut, T0.Add(day+2*time.Hour))
	reply("A-3", nudge.IntentComplaint, T0.Add(3*time.Hour))
	require.NoError(t, s.InsertPromise(ctx, nudge.Promise{Lender: "acme", AccountID: "A-1", Amount: "100", Due: nudge.MustDate("2026-06-05"),
		Status: nudge.PromiseKept, CreatedAt: T0.Add(2 * time.Hour)}))
	for _, e := range []nudge.Event{
		{AccountID: "A-1", Kind: nudge.EventOptOut, Reason: nudge.ReasonOptedOut, At: T0.Add(day + 30*time.Minute)},
		{AccountID: "A-1", Kind: nudge.EventPayment, Reason: nudge.ReasonCycleEnded, At: T0.Add(10 * day)},
		{AccountID: "A-2", Kind: nudge.EventPayment, Reason: nudge.ReasonPromiseActive, At: T0.Add(5 * day)}, // a part payment
		{AccountID: "A-3", Kind: nudge.EventPayment, Reason: nudge.ReasonCycleEnded, At: T0.Add(40 * day)},
	} {
		e.Lender = "acme"
		require.NoError(t, s.AppendEvent(ctx, e))
	}
}

func testKPIs(t *testing.T, s nudge.Store) {
	ks, ok := s.(KPIStore)
	if !ok {
		t.Skip("the store does not implement KPIStore")
	}
	ctx := context.Background()
	kpiLedger(t, s)
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	q := store.KPIQuery{Lender: "acme", From: nudge.MustDate("2026-06-01"), To: nudge.MustDate("2026-06-02"), Now: now, Live: true}

	// Worked by hand from kpiLedger (attempts a1 a2 of A-1, b1 b2 of A-2,
	// c1 c2 of A-3):
	//   sent: all six; delivered: a1 a2 b2 c1; contactable: the five SMS
	//   and calls; contacted: a1 c1 (delivered SMS) and a2 (answered call);
	//   right party: a2 (identity confirmed), and a1 b1 b2 c1 (a reply
	//   within 72 h); replied: a1 b1 b2 c1; promised and kept: a1; opted
	//   out: a1 a2 (the opt-out event) and b1 b2 (the STOP reply);
	//   complained: c1. Cycles: a1 b1 c1; cured: A-1 (paid on day 10 of
	//   30; A-2's payment did not end the cycle, A-3 paid on day 40).
	//   Day 1 past due: all three, observed on day 31; unpaid on day 31:
	//   of those, unpaid on day 61: A-2. Segments 2+1+1, call
	//   minutes ⌈61 s⌉ = 2, one email.
	want := kpi.Counts{Sent: 6, Delivered: 4, Contactable: 5, Contacted: 3, RightParty: 5, Replied: 4, Promised: 1, PromiseKept: 1,
		OptedOut: 4, Complained: 1, Cycles: 3, Cured: 1, Roll1Base: 3, Roll1: 2, Roll2Base: 2, Roll2: 1, Segments: 4, CallMinutes: 2, Emails: 1}
	rows, err := ks.KPIs(ctx, q)
	require.NoError(t, err)
	require.Equal(t, []store.KPIRow{{Dims: []string{}, Counts: want}}, rows)

	t.Run("by channel and language", func(t *testing.T) {
		q := q
		q.By = []kpi.Dimension{kpi.Channel, kpi.Language}
		rows, err := ks.KPIs(ctx, q)
		require.NoError(t, err)
		require.Equal(t, []store.KPIRow{
			{Dims: []string{"email", "es"}, Counts: kpi.Counts{Sent: 1, Delivered: 1, RightParty: 1, Replied: 1, OptedOut: 1, Emails: 1}},
			{Dims: []string{"sms", "en"}, Counts: kpi.Counts{Sent: 1, Delivered: 1, Contactable: 1, Contacted: 1, RightParty: 1, Replied: 1,
				Complained: 1, Cycles: 1, Roll1Base: 1, Roll1: 1, Roll2Base: 1, Segments: 1}},
			{Dims: []string{"sms", "es"}, Counts: kpi.Counts{Sent: 2, Delivered: 1, Contactable: 2, Contacted: 1, RightParty: 2, Replied: 2,
				Promised: 1, PromiseKept: 1, OptedOut: 2, Cycles: 2, Cured: 1, Roll1Base: 2, Roll1: 1, Roll2Base: 1, Roll2: 1, Segments: 3}},
			{Dims: []string{"voice", "en"}, Counts: kpi.Counts{Sent: 1, Contactable: 1}},
			{Dims: []string{"voice", "es"}, Counts: kpi.Counts{Sent: 1, Delivered: 1, Contactable: 1, Contacted: 1, RightParty: 1, OptedOut: 1, CallMinutes: 2}},
		}, rows)
	})
	t.Run("by day, cadence version, step and arm", func(t *testing.T) {
		q := q
		q.By = []kpi.Dimension{kpi.Day, kpi.CadenceVersion, kpi.Step, kpi.Arm}
		rows, err := ks.KPIs(ctx, q)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		require.Equal(t, []string{"2026-06-01", "c@1", "s1", kpi.NoArm}, rows[0].Dims)
		require.Equal(t, int64(3), rows[0].Counts.Sent)
		require.Equal(t, int64(3), rows[0].Counts.Cycles)
		require.Equal(t, []string{"2026-06-02", "c@1", "s2", kpi.NoArm}, rows[1].Dims)
		require.Equal(t, int64(3), rows[1].Counts.Sent)
		require.Equal(t, int64(0), rows[1].Counts.Cycles)
	})
	t.Run("cure days", func(t *testing.T) {
		q := q
		q.CureDays = 45
		rows, err := ks.KPIs(ctx, q)
		require.NoError(t, err)
		require.Equal(t, int64(2), rows[0].Counts.Cured)
		q.CureDays = 5
		rows, err = ks.KPIs(ctx, q)
		require.NoError(t, err)
		require.Equal(t, int64(0), rows[0].Counts.Cured)
	})
	t.Run("observed before day 61", func(t *testing.T) {
		q := q
		q.Now = time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)
		rows, err := ks.KPIs(ctx, q)
		require.NoError(t, err)
		c := rows[0].Counts
		require.Equal(t, [4]int64{3, 2, 0, 0}, [4]int64{c.Roll1Base, c.Roll1, c.Roll2Base, c.Roll2})
	})
	t.Run("rollups and live agree", func(t *testing.T) {
		all := q
		all.By = []kpi.Dimension{kpi.Day, kpi.CadenceVersion, kpi.Step, kpi.Channel, kpi.Language, kpi.Arm}
		// On 06-02 at noon: 06-01 is rolled up, 06-02 is live.
		mid := time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)
		res, err := ks.RollupKPIs(ctx, "acme", mid, 0)
		require.NoError(t, err)
		require.Equal(t, nudge.MustDate("2026-06-01"), res.From)
		require.Equal(t, nudge.MustDate("2026-06-02"), res.Until)
		require.Equal(t, int64(2), res.Rows) // sms es, sms en
		for _, by := range [][]kpi.Dimension{nil, all.By, {kpi.Channel}} {
			live, rolled := all, all
			live.By, rolled.By, live.Now, rolled.Now, rolled.Live = by, by, mid, mid, false
			lr, err := ks.KPIs(ctx, live)
			require.NoError(t, err)
			rr, err := ks.KPIs(ctx, rolled)
			require.NoError(t, err)
			require.Equal(t, lr, rr, "by %v", by)
		}
		// Later, both days are closed; running twice changes nothing.
		for range 2 {
			res, err = ks.RollupKPIs(ctx, "acme", now, 0)
			require.NoError(t, err)
			require.Equal(t, nudge.MustDate("2026-08-20"), res.Until)
		}
		rolled := all
		rolled.Live = false
		rr, err := ks.KPIs(ctx, rolled)
		require.NoError(t, err)
		lr, err := ks.KPIs(ctx, all)
		require.NoError(t, err)
		require.Equal(t, lr, rr)
		rolled.By = nil
		rr, err = ks.KPIs(ctx, rolled)
		require.NoError(t, err)
		require.Equal(t, []store.KPIRow{{Dims: []string{}, Counts: want}}, rr)
		// A rollup made with other cure days is not used.
		rolled.CureDays = 45
		rr, err = ks.KPIs(ctx, rolled)
		require.NoError(t, err)
		require.Equal(t, int64(2), rr[0].Counts.Cured)
	})
	t.Run("bad queries", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			edit func(q *store.KPIQuery)
			want string
		}{
			{"no lender", func(q *store.KPIQuery) { q.Lender = "" }, "lender is required"},
			{"to before from", func(q *store.KPIQuery) { q.To = nudge.MustDate("2026-05-01") }, "before from"},
			{"cure days", func(q *store.KPIQuery) { q.CureDays = 400 }, "cure days 400"},
			{"dimension", func(q *store.KPIQuery) { q.By = []kpi.Dimension{"colour"} }, `unknown dimension "colour"`},
		} {
			q := q
			tc.edit(&q)
			_, err := ks.KPIs(ctx, q)
			require.ErrorContains(t, err, tc.want, tc.name)
		}
	})
}
