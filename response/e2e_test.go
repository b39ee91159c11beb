package response_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/examples"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

// e2e is the whole SMS loop of one process: the send pipeline with the real
// Twilio sender pointed at twiliosim, the webhooks on an HTTP server whose
// URL is the public URL, and the planner over the stored us-auto cadence.
type e2e struct {
	*bundle
	sim      *twiliosim.Sim
	pipe     *dispatcher.Pipeline
	planner  *schedules.Planner
	deadline context.Context
}

func setupE2E(t *testing.T) *e2e {
	t.Helper()
	ctx := context.Background()
	b := setup(t)
	reg := compliance.NewRegistry()
	pack := templates.Default()
	lib := schedules.NewLibrary(b.db, reg, schedules.WithTemplates(pack),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil }))
	src, err := examples.FS.ReadFile("us-auto.yaml")
	require.NoError(t, err)
	v, err := b.db.PutCadence(ctx, lender, cadence, src, t0)
	require.NoError(t, err)
	require.NoError(t, b.db.ActivateCadence(ctx, lender, cadence, v))

	// The webhooks, as runtime.go wires them.
	b.handler.Profile = func(ctx context.Context, a nudge.Account) (*compliance.Profile, error) {
		cads, err := lib.Cadences(ctx, a.Lender)
		if err != nil {
			return nil, err
		}
		for _, c := range cads {
			if c.CoversPortfolio(a.Portfolio) {
				return reg.Lookup(c.Profile)
			}
		}
		return nil, fmt.Errorf("no cadence covers portfolio %q", a.Portfolio)
	}
	srv := web.NewServer(nil, nil)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	sim := twiliosim.New(twiliosim.Config{
		InboundURL: ts.URL + twilio.InboundPath, Speed: 50, CallbackAttempts: 10, Clock: b.clock,
	})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	(&webhooks.TwilioSMS{AuthToken: sim.AuthToken(), PublicURL: ts.URL, Store: b.db, Replies: b.handler, Clock: b.clock}).Register(srv)

	sms, err := twilio.New(twilio.Config{AccountSID: sim.AccountSID(), AuthToken: sim.AuthToken(), From: ourNumber,
		BaseURL: sim.URL(), PublicURL: ts.URL})
	require.NoError(t, err)
	voice, err := twilio.NewVoice(twilio.Config{AccountSID: sim.AccountSID(), AuthToken: sim.AuthToken(), From: ourNumber,
		BaseURL: sim.URL(), PublicURL: ts.URL}, webhooks.VoiceToken)
	require.NoError(t, err)
	links, err := link.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	profiles := dispatcher.ProfilesFunc(func(ctx context.Context, lender, name string) (*compliance.Profile, error) {
		cads, err := lib.Cadences(ctx, lender)
		if err != nil {
			return nil, err
		}
		for _, c := range cads {
			if c.Name == name {
				return reg.Lookup(c.Profile)
			}
		}
		return nil, fmt.Errorf("cadence %s of lender %s is not active", name, lender)
	})
	pipe, err := dispatcher.NewPipeline(dispatcher.PipelineConfig{
		Store:    b.db,
		Profiles: profiles,
		Renderer: &dispatcher.TemplateRenderer{
			Pack: pack, Store: b.db, Profiles: profiles, Links: links, PublicURL: ts.URL, Clock: b.clock,
			TemplateFor: func(ctx context.Context, r nudge.Reminder, ch nudge.ChannelKind) (string, error) {
				c, err := lib.Cadence(ctx, r.Key.Lender, r.Key.Cadence, r.CadenceVersion)
				if err != nil {
					return "", err
				}
				step, _, ok := c.Step(r.Key.Step)
				if !ok {
					return "", fmt.Errorf("cadence %s has no step %s", c.Name, r.Key.Step)
				}
				return step.TemplateFor(ch), nil
			},
		},
		Senders:   map[nudge.ChannelKind]nudge.Sender{nudge.SMS: sms, nudge.Voice: voice},
		WorkItems: b.db,
		Clock:     b.clock,
	})
	require.NoError(t, err)
	deadline, cancel := context.WithTimeout(ctx, 8*time.Second)
	t.Cleanup(cancel)
	return &e2e{
		bundle: b, sim: sim, pipe: pipe, deadline: deadline,
		planner: &schedules.Planner{Store: b.db, Cadences: lib, Enqueuer: b.enq, Clock: b.clock},
	}
}

// send processes the reminder and waits until twiliosim has posted its
// final status callback; it returns the message's SID.
func (e *e2e) send(t *testing.T, r nudge.Reminder) string {
	t.Helper()
	require.NoError(t, e.pipe.Process(e.deadline, r.ID))
	got, err := e.db.GetReminder(e.deadline, r.ID)
	require.NoError(t, err)
	require.Equal(t, nudge.ReminderSent, got.Status, "reminder %s: %s", r.Key.Step, got.Reason)
	att, err := e.db.GetAttempt(e.deadline, dispatcher.AttemptID(r.ID, nudge.SMS))
	require.NoError(t, err)
	require.NotEmpty(t, att.ProviderID)
	d, err := e.sim.Await(e.deadline, func(d twiliosim.Delivery) bool {
		return d.Kind == twiliosim.KindMessageStatus && d.SID == att.ProviderID && d.Form.Get("MessageStatus") == "delivered"
	})
	require.NoError(t, err)
	require.True(t, d.OK(), "the webhook accepted the signed callback: %d %v", d.StatusCode, d.Err)
	require.NoError(t, e.sim.Idle(e.deadline))
	return att.ProviderID
}

func (e *e2e) reminder(t *testing.T, accountID, step string) nudge.Reminder {
	t.Helper()
	rs, err := e.db.ListReminders(context.Background(), lender, accountID)
	require.NoError(t, err)
	for _, r := range rs {
		if r.Key.Step == step {
			return r
		}
	}
	t.Fatalf("account %s has no reminder for step %s", accountID, step)
	return nudge.Reminder{}
}

func TestEndToEndDeliveredThenStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setupE2E(t)
	const phone = "+12125550101"
	e.sim.Script(phone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	first := e.addAccount(t, testAccount("A-1", "en", phone), 1)[0]

	sid := e.send(t, first)
	att, err := e.db.GetAttempt(ctx, dispatcher.AttemptID(first.ID, nudge.SMS))
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptDelivered, att.Status, "the signed callbacks reached the store")
	msg, ok := e.sim.Message(sid)
	require.True(t, ok)
	require.Contains(t, msg.Body, "Jane Doe")
	require.Contains(t, msg.Body, "Reply STOP to opt out")
	require.Equal(t, 1, e.sim.CreateCount(phone))

	// Three more reminders are queued when the borrower texts STOP.
	var queued []nudge.Reminder
	for _, step := range []string{"late-2", "late-3", "late-4"} {
		k := first.Key
		k.Step = step
		r := first
		r.ID, r.Key, r.Status = k.ID(), k, nudge.ReminderQueued
		queued = append(queued, r)
	}
	_, err = e.db.InsertReminders(ctx, queued)
	require.NoError(t, err)
	for _, r := range queued {
		require.NoError(t, e.enq.Enqueue(ctx, r, t0.Add(time.Hour)))
	}
	_, d := e.sim.Inbound(phone, ourNumber, "STOP")
	require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
	require.Contains(t, d.Response, "<Response/>", "Twilio's Advanced Opt-Out confirms; Nudge adds nothing")
	require.True(t, e.optedOut(t, nudge.SMS, phone), "the opt-out is durable once the webhook has answered")

	before := e.sim.CreateCount(phone)
	for _, r := range queued {
		require.NoError(t, e.pipe.Process(ctx, r.ID))
		got, err := e.db.GetReminder(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, nudge.ReminderSuppressed, got.Status, "reminder %s", r.Key.Step)
		require.Equal(t, nudge.ReasonOptedOut, got.Reason, "reminder %s", r.Key.Step)
	}
	require.NoError(t, e.sim.Idle(e.deadline))
	require.Equal(t, before, e.sim.CreateCount(phone), "nothing more reached Twilio for the number")
}

func TestEndToEndPromisePausesThenBreaks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setupE2E(t)
	const phone = "+12125550102"
	e.sim.Script(phone, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	rs := e.addAccount(t, testAccount("B-1", "en", phone), 3)
	e.send(t, rs[0])

	_, d := e.sim.Inbound(phone, ourNumber, "PAY 100 tomorrow")
	require.True(t, d.OK(), "inbound webhook: %d %v", d.StatusCode, d.Err)
	require.Contains(t, d.Response, "<Message>")
	require.Contains(t, d.Response, "plan to pay $100.00")
	p, err := e.db.ActivePromise(ctx, lender, "B-1")
	require.NoError(t, err)
	require.Equal(t, "100.00", p.Amount)
	require.Equal(t, nudge.MustDate("2026-11-28"), p.Due)
	e.requireCanceled(t, rs[1:], nudge.ReasonPromiseActive)

	// While the promise is pending the planner plans nothing for the account
	// and sets it aside until the day after the promised date.
	resume := time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC) // 2026-11-29 00:00 in New York
	for _, at := range []time.Time{t0, time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)} {
		e.clock.Set(at)
		st, err := e.planner.Tick(ctx)
		require.NoError(t, err)
		require.Zero(t, st.BrokenPromises)
		got, err := e.db.ListReminders(ctx, lender, "B-1")
		require.NoError(t, err)
		require.Len(t, got, len(rs), "no reminder planned at %s", at)
		a, err := e.db.GetAccount(ctx, lender, "B-1")
		require.NoError(t, err)
		require.True(t, a.NextActionAt.Equal(resume), "next action at %s, want %s", a.NextActionAt, resume)
	}

	// The day after the promised date has come in New York: the promise is
	// broken and the cadence's broken-promise steps are planned.
	e.clock.Set(time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC))
	st, err := e.planner.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.BrokenPromises)
	ps, err := e.db.ListPromises(ctx, lender, "B-1")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, nudge.PromiseBroken, ps[0].Status)
	bp := e.reminder(t, "B-1", "bp-sms")
	require.True(t, bp.BrokenPromise)
	require.Equal(t, nudge.ReminderQueued, bp.Status)
	require.True(t, e.taskQueued(t, bp.ID), "the broken-promise reminder is on the SMS queue")

	sid := e.send(t, bp)
	msg, ok := e.sim.Message(sid)
	require.True(t, ok)
	require.Contains(t, msg.Body, "we didn't receive the payment of $100.00 you planned for November 28, 2026",
		"the message names the broken promise, not the amount due")
}
