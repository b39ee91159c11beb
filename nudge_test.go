package nudge_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestDate(t *testing.T) {
	t.Parallel()
	d := nudge.MustDate("2026-03-07")
	require.Equal(t, "2026-03-09", d.AddDays(2).String())
	require.Equal(t, 2, d.AddDays(2).DaysSince(d), "across the spring-forward weekend")
	require.Equal(t, -31, nudge.MustDate("2026-02-04").DaysSince(d))
	require.True(t, d.Before(d.AddDays(1)))
	require.True(t, d.AddDays(1).After(d))

	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	require.Equal(t, "2026-03-08T03:30:00-04:00", nudge.MustDate("2026-03-08").In(ny, 2, 30).Format(time.RFC3339),
		"a time in the spring-forward gap moves forward")

	b, err := json.Marshal(struct {
		D nudge.Date `json:"d"`
		Z nudge.Date `json:"z"`
	}{D: d})
	require.NoError(t, err)
	require.JSONEq(t, `{"d": "2026-03-07", "z": null}`, string(b))

	var got struct{ D nudge.Date }
	require.NoError(t, json.Unmarshal([]byte(`{"D": "2026-06-01"}`), &got))
	require.Equal(t, nudge.MustDate("2026-06-01"), got.D)
	require.Error(t, json.Unmarshal([]byte(`{"D": "06/01/2026"}`), &got))
	require.Error(t, json.Unmarshal([]byte(`{"D": 20260601}`), &got))
}

func TestReminderKeyID(t *testing.T) {
	t.Parallel()
	k := nudge.ReminderKey{Lender: "demo", AccountID: "L-1", Cadence: "us", Step: "predue-sms", Cycle: nudge.MustDate("2026-06-01")}
	require.Equal(t, "demo/L-1/us/predue-sms/2026-06-01", k.String())
	require.Equal(t, k.ID(), k.ID(), "every replica derives the same id")
	other := k
	other.Cycle = k.Cycle.AddDays(30)
	require.NotEqual(t, k.ID(), other.ID(), "a new cycle is a new reminder")
	require.Regexp(t, `^rem_[a-z2-7]{24}$`, k.ID())
}

func TestAttemptStatusOrder(t *testing.T) {
	t.Parallel()
	require.Less(t, nudge.AttemptSending.Rank(), nudge.AttemptSent.Rank())
	require.Less(t, nudge.AttemptSent.Rank(), nudge.AttemptDelivered.Rank())
	require.Equal(t, nudge.AttemptSending.Rank(), nudge.AttemptRetrying.Rank())
	require.True(t, nudge.AttemptDelivered.Final())
	require.False(t, nudge.AttemptSent.Final())
	require.Equal(t, -1, nudge.AttemptStatus("bogus").Rank())

	tests := []struct {
		name       string
		a          nudge.Attempt
		counts     bool
		unanswered bool
	}{
		{name: "answered", a: nudge.Attempt{Status: nudge.AttemptCompleted, AnsweredBy: "human"}, counts: true},
		{name: "voicemail", a: nudge.Attempt{Status: nudge.AttemptCompleted, AnsweredBy: "machine_end_beep"}, counts: true, unanswered: true},
		{name: "rang out", a: nudge.Attempt{Status: nudge.AttemptNoAnswer}, counts: true, unanswered: true},
		{name: "busy", a: nudge.Attempt{Status: nudge.AttemptBusy}, unanswered: true},
		{name: "failed", a: nudge.Attempt{Status: nudge.AttemptFailed}, unanswered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.counts, tt.a.Status.CountsAsCall())
			require.Equal(t, tt.unanswered, tt.a.Unanswered())
		})
	}
}

func TestParseChannel(t *testing.T) {
	t.Parallel()
	for _, c := range nudge.Channels {
		got, err := nudge.ParseChannel(string(c))
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
	_, err := nudge.ParseChannel("fax")
	require.EqualError(t, err, `unknown channel "fax" (want sms, voice or email)`)
}

func TestLoadLocationCaches(t *testing.T) {
	t.Parallel()
	a, err := nudge.LoadLocation("America/Phoenix")
	require.NoError(t, err)
	b, err := nudge.LoadLocation("America/Phoenix")
	require.NoError(t, err)
	require.Same(t, a, b)
	_, err = nudge.LoadLocation("Mars/Olympus_Mons")
	require.Error(t, err)
}

func TestLatestBrokenPromise(t *testing.T) {
	t.Parallel()
	due := nudge.MustDate("2026-06-01")
	ps := []nudge.Promise{
		{ID: "old-cycle", Status: nudge.PromiseBroken, Due: nudge.MustDate("2026-05-20")},
		{ID: "first", Status: nudge.PromiseBroken, Due: nudge.MustDate("2026-06-05")},
		{ID: "latest", Status: nudge.PromiseBroken, Due: nudge.MustDate("2026-06-12")},
		{ID: "pending", Status: nudge.PromisePending, Due: nudge.MustDate("2026-06-20")},
	}
	p, ok := nudge.LatestBrokenPromise(ps, due)
	require.True(t, ok)
	require.Equal(t, "latest", p.ID)
	_, ok = nudge.LatestBrokenPromise(ps[:1], due)
	require.False(t, ok, "a promise of an earlier cycle does not count")
}
