package forecast

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/schedules"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func TestQueueOrdersByInstantOncePerReminder(t *testing.T) {
	t.Parallel()
	q := NewQueue()
	ctx := context.Background()
	var planned []string
	q.planned = func(r nudge.Reminder, _ time.Time) { planned = append(planned, r.ID) }
	require.NoError(t, q.Enqueue(ctx, nudge.Reminder{ID: "b", Channel: nudge.SMS}, t0.Add(2*time.Hour)))
	require.NoError(t, q.Enqueue(ctx, nudge.Reminder{ID: "a", Channel: nudge.Voice}, t0.Add(time.Hour)))
	// A second enqueue of a queued reminder keeps its place, as a TaskID does.
	require.NoError(t, q.Enqueue(ctx, nudge.Reminder{ID: "b", Channel: nudge.SMS}, t0))
	require.Equal(t, []string{"b", "a"}, planned)
	require.Equal(t, 2, q.Len())

	at, ok := q.next()
	require.True(t, ok)
	require.Equal(t, t0.Add(time.Hour), at)
	_, _, ok = q.pop(t0.Add(59 * time.Minute))
	require.False(t, ok, "nothing is due before its instant")
	id, ch, ok := q.pop(t0.Add(3 * time.Hour))
	require.True(t, ok)
	require.Equal(t, "a", id)
	require.Equal(t, nudge.Voice, ch)
	q.again("a", nudge.Voice, t0.Add(90*time.Minute))
	id, _, _ = q.pop(t0.Add(3 * time.Hour))
	require.Equal(t, "a", id, "put back earlier than b")
	id, _, _ = q.pop(t0.Add(3 * time.Hour))
	require.Equal(t, "b", id)
	require.Zero(t, q.Len())
	// A reminder planned again after it ran is not counted twice.
	require.NoError(t, q.Enqueue(ctx, nudge.Reminder{ID: "a", Channel: nudge.Voice}, t0))
	require.Equal(t, []string{"b", "a"}, planned)
}

func TestRecorderCountsSegmentsMinutesAndSender(t *testing.T) {
	t.Parallel()
	clock := nudge.NewFixedClock(t0)
	r := &Recorder{Clock: clock, CallMinutes: 2, SenderRate: func(m *nudge.Message) (string, float64) {
		return "twilio:sms:" + m.Lender, 10
	}}
	ctx := context.Background()
	res, err := r.Send(ctx, &nudge.Message{AttemptID: "att_1", Lender: "l", Channel: nudge.SMS, Text: strings.Repeat("a", 161)})
	require.NoError(t, err)
	require.Equal(t, nudge.AttemptSent, res.Status)
	require.Equal(t, 2, res.Segments, "161 GSM-7 characters are two segments")
	_, err = r.Send(ctx, &nudge.Message{AttemptID: "att_2", Lender: "l", Channel: nudge.SMS, Text: "还款提醒"})
	require.NoError(t, err)
	_, err = r.Send(ctx, &nudge.Message{AttemptID: "att_3", Lender: "l", Channel: nudge.Voice})
	require.NoError(t, err)
	sent := r.take()
	require.Len(t, sent, 3)
	require.Equal(t, Sent{At: t0, Channel: nudge.SMS, Sender: "twilio:sms:l", Rate: 10, Segments: 2}, sent[0])
	require.Equal(t, 1, sent[1].Segments)
	require.Equal(t, 2, sent[2].Minutes)
	require.Empty(t, r.take())
}

// fakePlanner plans one reminder per account at its instant, on the first
// tick at or after it.
type fakePlanner struct {
	q     *Queue
	clock nudge.Clock
	plan  []planned
	ticks int
}

type planned struct {
	r  nudge.Reminder
	at time.Time
}

func (p *fakePlanner) Tick(ctx context.Context) (schedules.TickStats, error) {
	p.ticks++
	now := p.clock.Now()
	var rest []planned
	for _, pl := range p.plan {
		if pl.at.After(now) {
			rest = append(rest, pl)
			continue
		}
		if err := p.q.Enqueue(ctx, pl.r, pl.at); err != nil {
			return schedules.TickStats{}, err
		}
	}
	p.plan = rest
	return schedules.TickStats{}, nil
}

// fakePipeline decides by reminder id: "quiet" is deferred until 08:00,
// "held" is suppressed, everything else is sent.
type fakePipeline struct {
	mu     sync.Mutex
	clock  nudge.Clock
	sender nudge.Sender
	store  map[string]nudge.Reminder
	runs   map[string]int
}

func (p *fakePipeline) Process(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs[id]++
	r := p.store[id]
	now := p.clock.Now()
	switch {
	case strings.HasPrefix(id, "quiet") && now.Hour() < 8:
		return &dispatcher.DelayError{Kind: dispatcher.ErrDeferred, Reason: nudge.ReasonQuietHours,
			Delay: time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, time.UTC).Sub(now)}
	case strings.HasPrefix(id, "held"):
		r.Status, r.Reason = nudge.ReminderSuppressed, nudge.ReasonHold
	case strings.HasPrefix(id, "broken"):
		return errors.New("template does not render")
	default:
		if _, err := p.sender.Send(ctx, &nudge.Message{AttemptID: "att_" + id, Channel: r.Channel, Text: "Pay now"}); err != nil {
			return err
		}
		r.Status = nudge.ReminderSent
	}
	p.store[id] = r
	return nil
}

func (p *fakePipeline) LoadReminder(_ context.Context, id string) (nudge.Reminder, []nudge.Attempt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.store[id], nil, nil
}

func TestRunCountsEachDayAndChannel(t *testing.T) {
	t.Parallel()
	clock := nudge.NewFixedClock(t0)
	q := NewQueue()
	rec := &Recorder{Clock: clock, SenderRate: func(m *nudge.Message) (string, float64) { return "s:" + string(m.Channel), 1 }}
	rems := map[string]nudge.Reminder{}
	pl := &fakePlanner{q: q, clock: clock}
	add := func(id string, ch nudge.ChannelKind, at time.Time) {
		r := nudge.Reminder{ID: id, Channel: ch}
		rems[id] = r
		pl.plan = append(pl.plan, planned{r, at})
	}
	day2 := t0.Add(24 * time.Hour)
	add("sms1", nudge.SMS, t0.Add(10*time.Hour))
	add("sms2", nudge.SMS, t0.Add(10*time.Hour))
	add("sms3", nudge.SMS, t0.Add(10*time.Hour+30*time.Second))
	add("quiet1", nudge.Voice, t0.Add(3*time.Hour))
	add("held1", nudge.Email, day2.Add(9*time.Hour))
	add("broken1", nudge.Email, day2.Add(9*time.Hour))
	add("late", nudge.SMS, t0.Add(5*24*time.Hour)) // after the forecast
	pipe := &fakePipeline{clock: clock, sender: rec, store: rems, runs: map[string]int{}}
	sim := &Sim{Planner: pl, Pipeline: pipe, Store: pipe, Queue: q, Recorder: rec, Clock: clock,
		Prices: kpi.Prices{Currency: "USD", SMSPerSegment: 7900, VoicePerMinute: 14000}, Tick: 15 * time.Minute, Accounts: 7}
	var progress []nudge.Date
	sim.Progress = func(_ int, d nudge.Date) { progress = append(progress, d) }
	rep, err := sim.Run(context.Background(), t0, 2)
	require.NoError(t, err)
	require.Equal(t, []nudge.Date{nudge.DateOf(t0), nudge.DateOf(day2)}, progress)
	require.Equal(t, 2*24*4, pl.ticks, "a tick every 15 minutes for two days")

	rows := map[string]Row{}
	for _, r := range rep.Rows {
		rows[r.Date.String()+" "+string(r.Channel)] = r
	}
	require.Len(t, rep.Rows, 6, "two days × three channels seen")
	d1, d2 := nudge.DateOf(t0).String(), nudge.DateOf(day2).String()
	sms := rows[d1+" sms"]
	require.Equal(t, 3, sms.Planned)
	require.Equal(t, 3, sms.Sent)
	require.Equal(t, 3, sms.Segments)
	require.Equal(t, 2, sms.PeakPerSecond, "two texts due at 10:00:00 on one sender")
	require.Equal(t, "0.0237", sms.CostText)
	voice := rows[d1+" voice"]
	require.Equal(t, map[nudge.Reason]int{nudge.ReasonQuietHours: 1}, voice.Deferred)
	require.Equal(t, 1, voice.Sent, "sent at 08:00 after the deferral")
	require.Equal(t, 1, voice.CallMinutes)
	require.Equal(t, 2, pipe.runs["quiet1"])
	email := rows[d2+" email"]
	require.Equal(t, 2, email.Planned)
	require.Equal(t, map[nudge.Reason]int{nudge.ReasonHold: 1}, email.Suppressed)
	require.Equal(t, 1, email.Failed, "a reminder that fails every run gives up after the retries")
	require.Equal(t, dispatcher.DefaultMaxRetry+1, pipe.runs["broken1"])
	require.Equal(t, []string{"gave up after 21 runs: template does not render"}, rep.Errors)
	require.Zero(t, pipe.runs["late"])

	require.Len(t, rep.Senders, 2)
	require.Equal(t, SenderPeak{Sender: "s:sms", Channel: nudge.SMS, Rate: 1, Sends: 3, Peak: 2, PeakAt: t0.Add(10 * time.Hour),
		Over: true, DrainSeconds: 2}, rep.Senders[0])
	totals := rep.Totals()
	require.Equal(t, 3, totals[0].Sent)
}

func TestRunRefusesBadDays(t *testing.T) {
	t.Parallel()
	_, err := (&Sim{}).Run(context.Background(), t0, 0)
	require.ErrorContains(t, err, "days")
	_, err = (&Sim{}).Run(context.Background(), t0, 3)
	require.ErrorContains(t, err, "required")
}

func sampleReport() Report {
	d := nudge.DateOf(t0)
	return Report{Start: t0, Days: 1, Zone: "UTC", Accounts: 2, Currency: "USD", CallMinutes: 1,
		Rows: []Row{
			{Date: d, Channel: nudge.SMS, Planned: 3, Sent: 2, Segments: 4, CostText: "0.0316", PeakPerSecond: 2, PeakSender: "twilio:sms:+1500", PeakRate: 1,
				Deferred: map[nudge.Reason]int{nudge.ReasonQuietHours: 2}, Suppressed: map[nudge.Reason]int{nudge.ReasonHold: 1}},
			{Date: d, Channel: nudge.Voice, Planned: 1, Sent: 1, CallMinutes: 1, CostText: "0.014",
				Deferred: map[nudge.Reason]int{}, Suppressed: map[nudge.Reason]int{}},
		},
		Senders: []SenderPeak{{Sender: "twilio:sms:+1500", Channel: nudge.SMS, Rate: 1, Sends: 2, Peak: 2, PeakAt: t0, Over: true, DrainSeconds: 2}},
	}
}

func TestWriters(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, rep))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, "deferred_quiet_hours", recs[0][len(recs[0])-2])
	require.Equal(t, "suppressed_hold", recs[0][len(recs[0])-1])
	require.Equal(t, []string{"2026-03-02", "sms", "3", "2", "2", "1"}, recs[1][:6])
	require.Equal(t, []string{"2", "1"}, recs[1][len(recs[1])-2:])

	buf.Reset()
	require.NoError(t, WriteTable(&buf, rep))
	out := buf.String()
	require.Contains(t, out, "hold:1")
	require.Contains(t, out, "2 (1/s)")
	require.Contains(t, out, "2s to drain its busiest second")
	require.Contains(t, out, "total")

	buf.Reset()
	require.NoError(t, WriteSVG(&buf, rep))
	dec := xml.NewDecoder(&buf)
	rects := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the chart is well-formed XML")
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	require.Equal(t, 2+2, rects, "a bar per channel sent, and a legend square per channel")
}

func TestParseOptOutsAndPromisesNameLineAndField(t *testing.T) {
	t.Parallel()
	outs, err := ParseOptOuts("o.ndjson", strings.NewReader(`{"lender":"l","channel":"sms","address":"+1 212 555 0101"}`+"\n\n"+`{"lender":"l","channel":"email","address":"A@Example.com"}`))
	require.NoError(t, err)
	require.Equal(t, "+12125550101", outs[0].Address)
	require.Equal(t, "a@example.com", outs[1].Address)

	_, err = ParseOptOuts("o.ndjson", strings.NewReader(`{"lender":"l","channel":"fax","address":"1"}`+"\n"+`{"lender":"l","channel":"sms","addr":"1"}`+"\n"+`{"lender":"l","channel":"sms","address":"12"}`))
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, `o.ndjson:1: channel: "fax" is not sms, voice or email`)
	require.Contains(t, msg, "o.ndjson:2: addr: unknown field")
	require.Contains(t, msg, "o.ndjson:3: address:")

	ps, err := ParsePromises("p.ndjson", strings.NewReader(`{"lender":"l","account_id":"A","due":"2026-03-05"}`))
	require.NoError(t, err)
	require.Equal(t, nudge.MustDate("2026-03-05"), ps[0].Due)
	_, err = ParsePromises("p.ndjson", strings.NewReader("\n"+`{"lender":"l","account_id":"A"}`+"\n"+`{"lender":"l","account_id":7,"due":"2026-03-05"}`))
	require.Error(t, err)
	require.Contains(t, err.Error(), "p.ndjson:2: due: required")
	require.Contains(t, err.Error(), "p.ndjson:3: account_id: want a string")
}
