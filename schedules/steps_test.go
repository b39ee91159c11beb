package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestLocalTime(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	sh := mustLoad(t, "Asia/Shanghai")
	lh := mustLoad(t, "Australia/Lord_Howe")
	tests := []struct {
		name string
		day  string
		at   ClockTime
		loc  *time.Location
		want string // RFC 3339 in UTC
	}{
		{"ordinary day", "2026-06-01", ClockTime{10, 0}, ny, "2026-06-01T14:00:00Z"},
		{"spring forward gap moves forward", "2026-03-08", ClockTime{2, 30}, ny, "2026-03-08T07:30:00Z"},
		{"spring forward after the gap", "2026-03-08", ClockTime{3, 30}, ny, "2026-03-08T07:30:00Z"},
		{"spring forward before the gap", "2026-03-08", ClockTime{1, 30}, ny, "2026-03-08T06:30:00Z"},
		{"fall back takes the first 01:30", "2026-11-01", ClockTime{1, 30}, ny, "2026-11-01T05:30:00Z"},
		{"fall back after the repeat", "2026-11-01", ClockTime{2, 30}, ny, "2026-11-01T07:30:00Z"},
		{"no DST", "2026-03-08", ClockTime{10, 0}, sh, "2026-03-08T02:00:00Z"},
		{"half-hour DST gap", "2026-10-04", ClockTime{2, 15}, lh, "2026-10-03T15:45:00Z"},
		{"nil location is UTC", "2026-06-01", ClockTime{23, 59}, nil, "2026-06-01T23:59:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := LocalTime(nudge.MustDate(tt.day), tt.at, tt.loc)
			require.Equal(t, tt.want, got.UTC().Format(time.RFC3339))
		})
	}
	// 02:15 on Lord Howe's spring-forward day does not exist (02:00 → 02:30): it is shown as 02:45.
	got := LocalTime(nudge.MustDate("2026-10-04"), ClockTime{2, 15}, lh).In(lh)
	require.Equal(t, "02:45", got.Format("15:04"))
	got = LocalTime(nudge.MustDate("2026-03-08"), ClockTime{2, 30}, ny).In(ny)
	require.Equal(t, "2026-03-08 03:30 EDT", got.Format("2006-01-02 15:04 MST"))
}

func TestEndOfDay(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	start := LocalTime(nudge.MustDate("2026-03-08"), ClockTime{}, ny)
	end := EndOfDay(nudge.MustDate("2026-03-08"), ny)
	require.Equal(t, 23*time.Hour, end.Sub(start))
	require.Equal(t, "2026-03-09T04:00:00Z", end.UTC().Format(time.RFC3339))
	start = LocalTime(nudge.MustDate("2026-11-01"), ClockTime{}, ny)
	end = EndOfDay(nudge.MustDate("2026-11-01"), ny)
	require.Equal(t, 25*time.Hour, end.Sub(start))
}

func account(due string) nudge.Account {
	return nudge.Account{ID: "acc-1", Lender: "acme", Portfolio: "auto", DueDate: nudge.MustDate(due), Status: nudge.StatusActive}
}

func TestApplies(t *testing.T) {
	t.Parallel()
	c := &Cadence{AppliesTo: AppliesTo{Portfolios: []string{"auto"}, DaysPastDue: DayRange{Min: -5, Max: 30}}}
	all := &Cadence{AppliesTo: AppliesTo{DaysPastDue: DayRange{Min: -5, Max: 30}}}
	today := nudge.MustDate("2026-06-10")
	tests := []struct {
		name    string
		cadence *Cadence
		mod     func(a *nudge.Account)
		want    bool
	}{
		{"in range", c, func(*nudge.Account) {}, true},
		{"first day of range", c, func(a *nudge.Account) { a.DueDate = nudge.MustDate("2026-06-15") }, true},
		{"before range", c, func(a *nudge.Account) { a.DueDate = nudge.MustDate("2026-06-16") }, false},
		{"last day of range", c, func(a *nudge.Account) { a.DueDate = nudge.MustDate("2026-05-11") }, true},
		{"after range", c, func(a *nudge.Account) { a.DueDate = nudge.MustDate("2026-05-10") }, false},
		{"other portfolio", c, func(a *nudge.Account) { a.Portfolio = "lease" }, false},
		{"any portfolio", all, func(a *nudge.Account) { a.Portfolio = "lease" }, true},
		{"no portfolio on the account", c, func(a *nudge.Account) { a.Portfolio = "" }, false},
		{"paid", c, func(a *nudge.Account) { a.Status = nudge.StatusPaid }, false},
		{"charged off", c, func(a *nudge.Account) { a.Status = nudge.StatusChargedOff }, false},
		{"no due date", c, func(a *nudge.Account) { a.DueDate = nudge.Date{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := account("2026-06-01")
			tt.mod(&a)
			require.Equal(t, tt.want, tt.cadence.Applies(a, today))
		})
	}
}

func TestStopped(t *testing.T) {
	t.Parallel()
	today := nudge.MustDate("2026-06-10")
	pending := &nudge.Promise{Status: nudge.PromisePending, Due: nudge.MustDate("2026-06-12")}
	tests := []struct {
		name     string
		stopWhen []StopCondition
		mod      func(a *nudge.Account, st *AccountState)
		want     StopCondition
	}{
		{"nothing holds", nil, func(*nudge.Account, *AccountState) {}, ""},
		{"paid", nil, func(a *nudge.Account, _ *AccountState) { a.Status = nudge.StatusPaid }, StopPaid},
		{"pending promise", nil, func(_ *nudge.Account, st *AccountState) { st.Promise = pending }, StopPromise},
		{"promise on its date", nil, func(_ *nudge.Account, st *AccountState) {
			p := *pending
			p.Due = today
			st.Promise = &p
		}, StopPromise},
		{"promise date passed", nil, func(_ *nudge.Account, st *AccountState) {
			p := *pending
			p.Due = nudge.MustDate("2026-06-09")
			st.Promise = &p
		}, ""},
		{"kept promise", nil, func(_ *nudge.Account, st *AccountState) {
			p := *pending
			p.Status = nudge.PromiseKept
			st.Promise = &p
		}, ""},
		{"payment claimed", nil, func(_ *nudge.Account, st *AccountState) { st.PaymentClaimed = true }, StopPaymentClaimed},
		{"hold", nil, func(a *nudge.Account, _ *AccountState) { a.Holds = []nudge.Hold{{Kind: nudge.HoldDispute}} }, StopHold},
		{"opt out", nil, func(_ *nudge.Account, st *AccountState) { st.OptedOut = true }, StopOptOut},
		{"opt out not listed", []StopCondition{StopPaid, StopHold}, func(_ *nudge.Account, st *AccountState) { st.OptedOut = true }, ""},
		{"first listed condition wins", []StopCondition{StopOptOut, StopHold}, func(a *nudge.Account, st *AccountState) {
			st.OptedOut = true
			a.Holds = []nudge.Hold{{Kind: nudge.HoldBankruptcy}}
		}, StopHold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &Cadence{StopWhen: tt.stopWhen}
			a := account("2026-06-01")
			var st AccountState
			tt.mod(&a, &st)
			got, ok := c.Stopped(a, st, today)
			require.Equal(t, tt.want != "", ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// planCadence is a cadence shaped like examples/us-auto.yaml with a late-night step.
func planCadence() *Cadence {
	return &Cadence{
		Name:      "us-auto-standard",
		Profile:   "us",
		AppliesTo: AppliesTo{Portfolios: []string{"auto"}, DaysPastDue: DayRange{Min: -5, Max: 30}},
		Steps: []Step{
			{ID: "predue-sms", Day: -3, At: ClockTime{10, 0}, Channel: nudge.SMS, Template: "predue_sms"},
			{ID: "due-email", Day: 0, At: ClockTime{9, 0}, Channel: nudge.Email, Template: "due_email"},
			{ID: "late-sms", Day: 1, At: ClockTime{10, 0}, Channel: nudge.SMS, Template: "late_sms", Fallback: nudge.Email, FallbackTemplate: "late_email"},
			{ID: "late-night-sms", Day: 2, At: ClockTime{23, 30}, Channel: nudge.SMS, Template: "late_sms"},
			{ID: "late-voice-1", Day: 5, At: ClockTime{17, 30}, Channel: nudge.Voice, Template: "late_voice"},
			{ID: "late-voice-2", Day: 10, At: ClockTime{12, 0}, Channel: nudge.Voice, Template: "late_voice"},
			{ID: "late-firm-sms", Day: 15, At: ClockTime{11, 0}, Channel: nudge.SMS, Template: "late_firm_sms"},
		},
		BrokenPromise: []Step{
			{ID: "bp-sms", Day: 1, At: ClockTime{10, 0}, Channel: nudge.SMS, Template: "broken_promise_sms"},
			{ID: "bp-voice", Day: 3, At: ClockTime{17, 0}, Channel: nudge.Voice, Template: "late_voice"},
		},
	}
}

func stepIDs(rs []nudge.Reminder) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Key.Step)
	}
	return out
}

func TestDue(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		require.NoError(t, err)
		return tm
	}
	promised := nudge.MustDate("2026-06-05")
	// The account is due 2026-06-01 (a Monday in EDT, UTC-4).
	tests := []struct {
		name          string
		due           string
		since, now    string
		brokenPromise *nudge.Date
		wantDue       []string
		wantExpired   []string
		wantNext      string // local New York time, "" for none
	}{
		{
			name: "nothing due yet", since: "2026-05-28 09:00", now: "2026-05-29 09:59",
			wantNext: "2026-05-29 10:00",
		},
		{
			name: "step due at its instant", since: "2026-05-29 09:59", now: "2026-05-29 10:00",
			wantDue: []string{"predue-sms"}, wantNext: "2026-06-01 09:00",
		},
		{
			name: "step still due later the same day", since: "2026-05-29 10:00", now: "2026-05-29 22:00",
			wantDue: []string{"predue-sms"}, wantNext: "2026-06-01 09:00",
		},
		{
			name: "scheduler down for days expires the missed days", since: "2026-05-31 12:00", now: "2026-06-03 08:00",
			wantExpired: []string{"due-email", "late-sms"}, wantNext: "2026-06-03 23:30",
		},
		{
			name: "down since the morning: today's step still due, earlier day expired", since: "2026-06-01 08:00", now: "2026-06-02 11:00",
			wantDue: []string{"late-sms"}, wantExpired: []string{"due-email"}, wantNext: "2026-06-03 23:30",
		},
		{
			name: "new account imported mid-cadence gets no backlog", since: "", now: "2026-06-11 15:00",
			wantDue: []string{"late-voice-2"}, wantNext: "2026-06-16 11:00",
		},
		{
			name: "new account before today's step", since: "", now: "2026-06-11 08:00",
			wantNext: "2026-06-11 12:00",
		},
		{
			name: "step at 23:30 is due until midnight", since: "2026-06-03 23:29", now: "2026-06-03 23:59",
			wantDue: []string{"late-night-sms"}, wantNext: "2026-06-06 17:30",
		},
		{
			name: "step at 23:30 missed past midnight expires", since: "2026-06-03 23:20", now: "2026-06-04 00:05",
			wantExpired: []string{"late-night-sms"}, wantNext: "2026-06-06 17:30",
		},
		{
			name: "a step at exactly Since that was never sent expires", since: "2026-06-06 17:30", now: "2026-06-08 09:00",
			wantExpired: []string{"late-voice-1"}, wantNext: "2026-06-11 12:00",
		},
		{
			name: "steps before Since are not reported again", since: "2026-06-06 17:31", now: "2026-06-08 09:00",
			wantNext: "2026-06-11 12:00",
		},
		{
			name: "cycle over", since: "2026-06-16 10:00", now: "2026-06-20 10:00",
			wantExpired: []string{"late-firm-sms"},
		},
		{
			name: "broken promise steps count from the promised date", since: "2026-06-06 09:00", now: "2026-06-06 10:00",
			brokenPromise: &promised, wantDue: []string{"bp-sms"}, wantNext: "2026-06-06 17:30",
		},
		{
			name: "broken promise voice after a regular step", since: "2026-06-06 09:00", now: "2026-06-08 17:00",
			brokenPromise: &promised, wantDue: []string{"bp-voice"}, wantExpired: []string{"bp-sms", "late-voice-1"}, wantNext: "2026-06-11 12:00",
		},
		{
			name: "spring forward: 02:30 step lands at 03:30", due: "2026-03-07", since: "2026-03-08 01:59", now: "2026-03-08 03:29",
			wantNext: "2026-03-08 03:30",
		},
		{
			name: "spring forward: 02:30 step due at 03:30", due: "2026-03-07", since: "2026-03-08 03:29", now: "2026-03-08 03:30",
			wantDue: []string{"dst-step"}, wantNext: "2026-03-12 17:30",
		},
		{
			name: "fall back: 01:30 step due at the first 01:30", due: "2026-10-31", since: "2026-11-01 00:59", now: "2026-11-01 01:30",
			wantDue: []string{"dst-step"}, wantNext: "2026-11-05 17:30",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := planCadence()
			due := tt.due
			if due == "" {
				due = "2026-06-01"
			} else {
				// DST cases: one step on day 1 at an instant that is skipped or repeated.
				hh := 2
				if nudge.MustDate(due).Month == time.October {
					hh = 1
				}
				c.Steps = []Step{
					{ID: "dst-step", Day: 1, At: ClockTime{hh, 30}, Channel: nudge.SMS, Template: "late_sms"},
					{ID: "late-voice-1", Day: 5, At: ClockTime{17, 30}, Channel: nudge.Voice, Template: "late_voice"},
				}
			}
			in := DueInput{Account: account(due), Location: ny, Now: at(tt.now), BrokenPromise: tt.brokenPromise, CadenceVersion: 3}
			if tt.since != "" {
				in.Since = at(tt.since)
			}
			res := c.Due(in)
			require.Equal(t, nonNil(tt.wantDue), stepIDs(res.Due), "due")
			require.Equal(t, nonNil(tt.wantExpired), stepIDs(res.Expired), "expired")
			if tt.wantNext == "" {
				require.True(t, res.Next.IsZero(), "next = %v", res.Next)
			} else {
				require.Equal(t, at(tt.wantNext).UTC(), res.Next)
			}
			for _, r := range res.Due {
				require.Equal(t, nudge.ReminderPlanned, r.Status)
				require.Equal(t, nudge.ReasonNone, r.Reason)
				require.False(t, r.DueAt.After(in.Now))
				require.True(t, in.Now.Before(r.ExpiresAt))
			}
			for _, r := range res.Expired {
				require.Equal(t, nudge.ReminderExpired, r.Status)
				require.Equal(t, nudge.ReasonExpired, r.Reason)
				require.False(t, in.Now.Before(r.ExpiresAt))
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestDueReminderFields(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	c := planCadence()
	promised := nudge.MustDate("2026-06-05")
	now := time.Date(2026, 6, 6, 14, 0, 0, 0, time.UTC) // 10:00 EDT
	res := c.Due(DueInput{
		Account:        account("2026-06-01"),
		Location:       ny,
		Since:          now.Add(-time.Minute),
		Now:            now,
		BrokenPromise:  &promised,
		Lender:         "acme-us",
		CadenceVersion: 7,
	})
	require.Len(t, res.Due, 1)
	r := res.Due[0]
	key := nudge.ReminderKey{Lender: "acme-us", AccountID: "acc-1", Cadence: "us-auto-standard", Step: "bp-sms", Cycle: promised}
	require.Equal(t, nudge.Reminder{
		ID:             key.ID(),
		Key:            key,
		CadenceVersion: 7,
		Channel:        nudge.SMS,
		Template:       "broken_promise_sms",
		BrokenPromise:  true,
		DueAt:          now,
		ExpiresAt:      time.Date(2026, 6, 7, 4, 0, 0, 0, time.UTC),
		Status:         nudge.ReminderPlanned,
		NextAt:         now,
		CreatedAt:      now,
		UpdatedAt:      now,
	}, r)
	require.Equal(t, time.UTC, r.DueAt.Location())

	// A regular step keeps the due date as its cycle, its fallback, and the account's lender by default.
	res = c.Due(DueInput{Account: account("2026-06-01"), Location: ny, Now: time.Date(2026, 6, 2, 14, 0, 0, 0, time.UTC)})
	require.Len(t, res.Due, 1)
	r = res.Due[0]
	require.Equal(t, "acme/acc-1/us-auto-standard/late-sms/2026-06-01", r.Key.String())
	require.Equal(t, r.Key.ID(), r.ID)
	require.Equal(t, nudge.Email, r.Fallback)
	require.False(t, r.BrokenPromise)
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	c := planCadence()
	promised := nudge.MustDate("2026-06-05")
	in := DueInput{Account: account("2026-06-01"), Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), BrokenPromise: &promised}
	got := c.Timeline(in)
	require.Equal(t, []string{
		"predue-sms", "due-email", "late-sms", "late-night-sms", "bp-sms", "late-voice-1", "bp-voice", "late-voice-2", "late-firm-sms",
	}, stepIDs(got))
	// Without a location the steps are read in UTC.
	require.Equal(t, time.Date(2026, 5, 29, 10, 0, 0, 0, time.UTC), got[0].DueAt)
	require.Equal(t, time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC), got[0].ExpiresAt)

	// No due date, no broken promise: nothing to plan.
	a := account("2026-06-01")
	a.DueDate = nudge.Date{}
	require.Empty(t, c.Timeline(DueInput{Account: a}))
	require.Equal(t, DueResult{}, c.Due(DueInput{Account: a, Now: in.Now}))
}
