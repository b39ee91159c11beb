package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
)

// TestE2ETwoSchedulersTwoWorkers runs two scheduler and two worker
// processes on one Redis and one database: every reminder is planned once,
// attempted once and reaches the provider once.
func TestE2ETwoSchedulersTwoWorkers(t *testing.T) {
	t.Parallel()
	e := newE2EEnv(t, redisDBReplicas, twiliosim.Config{})
	// The provider takes 10 messages a second from one sender: 24 messages
	// keep both workers busy at once without a long run.
	const n = 24
	accts := e.seedAccounts(n)
	for _, name := range []string{"scheduler-1", "scheduler-2"} {
		e.start(name, "scheduler")
	}
	for _, name := range []string{"worker-1", "worker-2"} {
		e.start(name, "worker")
	}
	e.waitFor("every reminder to be final", func() error { return e.allFinal(accts, n) })

	ctx := context.Background()
	rs := e.reminders(accts)
	require.Len(t, rs, n, "one reminder per account")
	atts, err := e.db.ListAttempts(ctx, e2eLender, time.Time{})
	require.NoError(t, err)
	require.Len(t, atts, n, "one attempt per reminder")
	byReminder := map[string]nudge.Attempt{}
	for _, a := range atts {
		_, dup := byReminder[a.ReminderID]
		require.False(t, dup, "reminder %s attempted twice", a.ReminderID)
		byReminder[a.ReminderID] = a
	}
	sids := map[string]bool{}
	for _, m := range e.sim.Messages() {
		if m.Direction == "outbound-api" {
			sids[m.SID] = true
		}
	}
	for i, a := range accts {
		r := rs[e.reminderID(a)]
		require.Equal(t, nudge.ReminderSent, r.Status, "reminder of %s (%s)", a.ID, r.Reason)
		att, ok := byReminder[r.ID]
		require.True(t, ok, "reminder %s has an attempt", r.ID)
		require.True(t, sids[att.ProviderID], "attempt %s carries the SID of a message the provider created", att.ID)
		require.Equal(t, 1, e.sim.CreateCount(e2eNumber(i)), "provider calls for %s", a.ID)
	}
	require.Len(t, sids, n)
	for _, p := range e.processes() {
		require.True(t, e.stop(p), "%s exits cleanly on SIGTERM: %v", p.name, p.waitErr)
	}
}

// TestE2EWorkerKilledMidSend kills a worker with SIGKILL while its provider
// calls are in flight. The next worker never calls the provider again for
// those attempts: it marks them unknown for an operator, and no reminder is
// lost.
func TestE2EWorkerKilledMidSend(t *testing.T) {
	t.Parallel()
	// The provider holds every create request long enough to kill the
	// worker in the middle of it (and less than the sender's timeout).
	e := newE2EEnv(t, redisDBKill, twiliosim.Config{CreateDelay: 8 * time.Second})
	const n = 4
	accts := e.seedAccounts(n)
	e.start("scheduler", "scheduler")
	doomed := e.start("worker-1", "worker")
	e.waitFor("every send to reach the provider", func() error {
		for i, a := range accts {
			if e.sim.CreateCount(e2eNumber(i)) == 0 {
				return fmt.Errorf("no create request for %s yet", a.ID)
			}
		}
		return nil
	})
	e.kill(doomed)
	ctx := context.Background()
	for _, a := range accts {
		att, err := e.db.GetAttempt(ctx, dispatcher.AttemptID(e.reminderID(a), nudge.SMS))
		require.NoError(t, err)
		require.Equal(t, nudge.AttemptSending, att.Status, "the killed worker left %s claimed", att.ID)
	}
	require.Equal(t, n, ageLeases(t, e.rdb, dispatcher.QueueSMS+":"+e2eLender), "the killed worker's tasks are still leased to it")

	e.start("worker-2", "worker")
	e.waitFor("every reminder to be final", func() error { return e.allFinal(accts, n) })
	rs := e.reminders(accts)
	for i, a := range accts {
		r := rs[e.reminderID(a)]
		require.Equal(t, nudge.ReminderUnknown, r.Status, "reminder of %s", a.ID)
		require.Equal(t, nudge.ReasonUnknownOutcome, r.Reason)
		att, err := e.db.GetAttempt(ctx, dispatcher.AttemptID(r.ID, nudge.SMS))
		require.NoError(t, err)
		require.Equal(t, nudge.AttemptUnknown, att.Status)
		require.Equal(t, 1, e.sim.CreateCount(e2eNumber(i)), "the provider is called once for %s", a.ID)
	}
}

// TestE2ECancelWhileQueued lets the scheduler queue reminders, then an
// opt-out, a payment and a hold arrive before any worker runs: none of
// those accounts is sent anything, and each reminder ends with the reason.
func TestE2ECancelWhileQueued(t *testing.T) {
	t.Parallel()
	e := newE2EEnv(t, redisDBCancel, twiliosim.Config{})
	accts := e.seedAccounts(4)
	optedOut, paid, held, control := accts[0], accts[1], accts[2], accts[3]
	e.start("scheduler", "scheduler")
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{})
	// The planner records a batch's reminders as queued before it enqueues
	// them (the ledger first), so wait for the tasks too.
	e.waitFor("every reminder to be queued", func() error {
		rs := e.reminders(accts)
		if len(rs) < len(accts) {
			return fmt.Errorf("%d of %d reminders planned", len(rs), len(accts))
		}
		for _, r := range rs {
			if r.Status != nudge.ReminderQueued {
				return fmt.Errorf("reminder %s is %s", r.ID, r.Status)
			}
			if _, err := enq.Inspector().GetTaskInfo(dispatcher.QueueSMS+":"+e2eLender, r.ID); err != nil {
				return fmt.Errorf("task of reminder %s: %w", r.ID, err)
			}
		}
		return nil
	})

	ctx := context.Background()
	now := time.Now().UTC()
	_, err := e.db.AddOptOut(ctx, nudge.OptOut{Lender: e2eLender, Channel: nudge.SMS, Address: optedOut.Contacts[0].Address,
		Source: "sms_reply", Reason: "replied STOP", CreatedAt: now})
	require.NoError(t, err)
	require.NoError(t, e.db.SetAccountStatus(ctx, e2eLender, paid.ID, nudge.StatusPaid, now))
	canceled, err := dispatcher.CancelAccount(ctx, e.db, enq, e2eLender, paid.ID, nudge.ReasonAccountPaid, now)
	require.NoError(t, err)
	require.Equal(t, 1, canceled)
	_, err = enq.Inspector().GetTaskInfo(dispatcher.QueueSMS+":"+e2eLender, e.reminderID(paid))
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "the paid account's task is taken off the queue")
	require.NoError(t, e.db.AddHold(ctx, e2eLender, held.ID, nudge.Hold{Kind: nudge.HoldDispute, Reason: "billing dispute"}, now))

	e.start("worker", "worker")
	e.waitFor("every reminder to be final", func() error { return e.allFinal(accts, len(accts)) })
	rs := e.reminders(accts)
	tests := []struct {
		name       string
		account    nudge.Account
		number     string
		wantStatus nudge.ReminderStatus
		wantReason nudge.Reason
		wantCalls  int
	}{
		{"opt-out", optedOut, e2eNumber(0), nudge.ReminderSuppressed, nudge.ReasonOptedOut, 0},
		{"payment", paid, e2eNumber(1), nudge.ReminderCanceled, nudge.ReasonAccountPaid, 0},
		{"hold", held, e2eNumber(2), nudge.ReminderSuppressed, nudge.ReasonHold, 0},
		{"nothing happened", control, e2eNumber(3), nudge.ReminderSent, nudge.ReasonNone, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rs[e.reminderID(tc.account)]
			require.Equal(t, tc.wantStatus, r.Status)
			require.Equal(t, tc.wantReason, r.Reason)
			require.Equal(t, tc.wantCalls, e.sim.CreateCount(tc.number), "provider calls")
		})
	}
}

// demoBorrowerPage finds the borrower page the demo prints.
var demoBorrowerPage = regexp.MustCompile(`Borrower page \(one borrower; open it on a phone\): (http://\S+/p/\S+)`)

// TestE2EDemoExport runs the demo in-process for a few seconds and checks
// what it exports: every message sent went out inside the allowed window of
// each of the borrower's candidate zones and within the frequency caps, and
// the JSON report has its documented keys.
func TestE2EDemoExport(t *testing.T) {
	t.Parallel()
	export := t.TempDir()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	a := &app{stdout: &stdout, stderr: stderr}
	// While the demo runs, the borrower page it prints answers, with Pay
	// now first and the plan form.
	page := make(chan string, 1)
	go func() {
		defer close(page)
		for range 100 {
			if m := demoBorrowerPage.FindStringSubmatch(stderr.String()); m != nil {
				resp, err := http.Get(m[1])
				if err != nil {
					page <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				page <- fmt.Sprintf("%d %s", resp.StatusCode, body)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	err := a.runDemo(context.Background(), demoOptions{
		duration: 12 * time.Second, accounts: 200, seed: 1, report: "json", export: export, addr: "127.0.0.1:0",
	})
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	got := <-page
	require.True(t, strings.HasPrefix(got, "200 "), "the printed borrower page answers while the demo runs: %.300s", got)
	require.Contains(t, got, `id="pay-now" href="https://pay.acme.example/pay?ref=US-`)
	require.Contains(t, got, `id="plan-form"`)
	require.Regexp(t, `Payment webhook: POST http://127\.0\.0\.1:\d+/webhooks/payments, signed with demo's secret nudge_whsec_`, stderr.String())

	var report map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &report), "report:\n%s", stdout.String())
	keys := make([]string, 0, len(report))
	for k := range report {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"reminders", "attempts", "suppressed", "deferred", "promises", "opt_outs",
		"emails", "email_replies", "sms_segments_per_message", "calls", "promises_by_channel", "opt_outs_by_source",
		"provider_faults", "reconciled", "webhooks"}, keys)
	var rep demoReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep))
	require.Positive(t, rep.SMSSegments, "the report averages the segments of the SMS sent")
	require.Positive(t, rep.Webhooks.Events, "the demo CRM got the US lender's events as webhooks")
	require.Equal(t, rep.Webhooks.Received, rep.Webhooks.Verified, "every webhook's signature checks out")
	require.LessOrEqual(t, rep.SMSSegments, 2.0, "the demo's SMS average at most 2 segments, as Twilio counts them")
	if rep.Emails > 0 {
		require.Equal(t, 1, rep.EmailReplies, "the demo's borrower answers the first email")
		require.Positive(t, rep.OptOutsBy["email_text"], "\"please stop emailing me\" opts out of email: %v", rep.OptOutsBy)
	}
	requireDemoMailSigned(t, export, rep.Emails)

	reminders := readNDJSON[exportedReminder](t, filepath.Join(export, "reminders.ndjson"))
	attempts := readNDJSON[exportedAttempt](t, filepath.Join(export, "attempts.ndjson"))
	require.NotEmpty(t, reminders)
	byStatus := map[nudge.ReminderStatus]int{}
	keysSeen := map[string]bool{}
	for _, r := range reminders {
		byStatus[r.Status]++
		keysSeen[r.Key] = true
	}
	require.Equal(t, rep.Reminders, byStatus, "the report counts the exported reminders")

	type capKey struct {
		account string
		channel nudge.ChannelKind
	}
	sends := map[capKey][]time.Time{}
	sent := 0
	for _, at := range attempts {
		require.True(t, keysSeen[at.ReminderKey], "attempt of unknown reminder %q", at.ReminderKey)
		if at.SentAt == nil {
			continue
		}
		sent++
		requireInWindow(t, at)
		k := capKey{at.AccountID, at.Channel}
		sends[k] = append(sends[k], *at.SentAt)
	}
	require.NotZero(t, sent, "the demo sent something in %s", 12*time.Second)
	for k, ts := range sends {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		for i := 1; i < len(ts); i++ {
			if k.channel == nudge.SMS || k.channel == nudge.Email {
				require.GreaterOrEqual(t, ts[i].Sub(ts[i-1]), 24*time.Hour,
					"account %s got two %s within 24 hours", k.account, k.channel)
			}
		}
		if k.channel == nudge.Voice {
			require.LessOrEqual(t, len(ts), 7, "account %s: more than 7 calls in the run", k.account)
		}
	}
}

// requireDemoMailSigned verifies, with the records the demo exported, the
// DKIM signature of every email it exported: each lender's mail carries its
// own From, the Chinese lender's signed with its own key for its own
// domain, the other's with the per-domain key of demo.example.
func requireDemoMailSigned(t *testing.T, export string, emails int) {
	t.Helper()
	zone, err := os.ReadFile(filepath.Join(export, demoDKIMZone))
	require.NoError(t, err)
	d := fakeDNS{}
	for line := range strings.SplitSeq(string(zone), "\n") {
		if name, value, ok := strings.Cut(line, ". IN TXT "); ok {
			d[name] = strings.Trim(value, `"`)
		}
	}
	require.Len(t, d, 2, "the zone publishes the demo's two keys:\n%s", zone)
	files, err := filepath.Glob(filepath.Join(export, "mail", "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, emails)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err)
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		require.NoError(t, err)
		wantName, wantDomain := "Acme Auto Finance", "demo.example"
		if strings.HasSuffix(from.Address, "@"+demoCNMailDomain) {
			wantName, wantDomain = "华夏汽车金融", demoCNMailDomain
		}
		require.Equal(t, wantName, from.Name, "%s: each lender's own From", filepath.Base(f))
		v := d.verify(t, raw)
		require.Len(t, v, 1, filepath.Base(f))
		require.NoError(t, v[0].Err, "%s verifies", filepath.Base(f))
		require.Equal(t, wantDomain, v[0].Domain, filepath.Base(f))
	}
}

// readNDJSON decodes every line of the file at path.
func readNDJSON[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var v T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&v), "%s: %s", filepath.Base(path), sc.Text())
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// requireInWindow checks that the attempt's request left for the provider
// inside its channel's window in every candidate zone.
func requireInWindow(t *testing.T, at exportedAttempt) {
	t.Helper()
	require.NotNil(t, at.RequestedAt, "attempt of %s was sent, so it was requested", at.ReminderKey)
	profile, err := compliance.Builtin(at.Profile)
	require.NoError(t, err, "attempt of %s", at.ReminderKey)
	w := profile.Window(at.Channel)
	require.NotEmpty(t, at.Zones, "attempt of %s names its zones", at.ReminderKey)
	for _, z := range at.Zones {
		loc, err := time.LoadLocation(z)
		require.NoError(t, err)
		local := at.RequestedAt.In(loc)
		minute := compliance.ClockTime(local.Hour()*60 + local.Minute())
		require.True(t, minute >= w.Start && minute < w.End,
			"%s requested at %s, outside the %s window %s in %s", at.ReminderKey, local.Format(time.RFC3339Nano), at.Channel, w, z)
	}
}

// TestE2EDemoAtWindowEnd runs the demo from one minute before the window
// closes, 21:00 in New York and 22:00 in Shanghai: nothing may leave for
// the provider at or after the end in any candidate zone.
func TestE2EDemoAtWindowEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the demo twice across a window's end")
	}
	tests := []struct {
		name string
		zone string
		at   string // local wall time
	}{
		{name: "New York 20:59", zone: "America/New_York", at: "20:59"},
		{name: "Shanghai 21:59", zone: "Asia/Shanghai", at: "21:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			day := time.Now().In(loc)
			local, err := time.ParseInLocation("2006-01-02 15:04", day.Format("2006-01-02")+" "+tt.at, loc)
			require.NoError(t, err)
			export := t.TempDir()
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr}
			require.NoError(t, a.runDemo(context.Background(), demoOptions{
				duration: 80 * time.Second, accounts: 300, seed: 3, report: "json", export: export, addr: "127.0.0.1:0",
				at: local.UTC().Format(time.RFC3339),
			}), "stderr:\n%s", stderr.String())
			attempts := readNDJSON[exportedAttempt](t, filepath.Join(export, "attempts.ndjson"))
			requested, late := 0, 0
			for _, at := range attempts {
				if at.RequestedAt == nil {
					continue
				}
				requested++
				if at.RequestedAt.After(local.Add(time.Minute)) {
					late++
				}
				requireInWindow(t, at)
			}
			require.NotZero(t, requested, "the minute before the end saw sends")
			t.Logf("%d requests, %d of them after %s there (to borrowers whose zones were still open), each checked in every candidate zone", requested, late, local.Add(time.Minute).Format("15:04"))
		})
	}
}
