package forecast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/schedules"
)

// Defaults of Sim.
const (
	// DefaultTick is how often the planner ticks: the scheduler's default
	// cron spec, every minute.
	DefaultTick = time.Minute
	// DefaultRetryDelay is how long a reminder whose run failed (neither
	// sent nor decided) waits before it runs again.
	DefaultRetryDelay = time.Minute
	// MaxDays bounds a forecast.
	MaxDays = 366
)

// Planner is what Run needs of *schedules.Planner.
type Planner interface {
	Tick(ctx context.Context) (schedules.TickStats, error)
}

// Pipeline is what Run needs of *dispatcher.Pipeline.
type Pipeline interface {
	Process(ctx context.Context, reminderID string) error
}

// Store is what Run reads of the scratch ledger.
type Store interface {
	LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error)
}

// Sim is one forecast's machinery: the real planner and pipeline over a
// scratch store, with the clock, the queue and the senders of the forecast.
type Sim struct {
	// Planner must enqueue on Queue and read Clock.
	Planner Planner
	// Pipeline must send through Recorder and read Clock.
	Pipeline Pipeline
	Store    Store
	Queue    *Queue
	Recorder *Recorder
	Clock    *nudge.FixedClock
	// Prices prices the sends (zero prices cost nothing).
	Prices kpi.Prices
	// Tick is how often the planner ticks (DefaultTick when 0).
	Tick time.Duration
	// Location is the zone days are counted in (UTC when nil).
	Location *time.Location
	// Accounts is the size of the portfolio, for the report.
	Accounts int
	// Progress, when set, is called at the end of each simulated day.
	Progress func(day int, d nudge.Date)
}

// Run forecasts days days from start: it sets the clock to each planner
// tick and to each queued reminder's instant in turn, ticks the planner
// and runs the due reminders through the pipeline, until start + days.
func (s *Sim) Run(ctx context.Context, start time.Time, days int) (Report, error) {
	if days <= 0 || days > MaxDays {
		return Report{}, fmt.Errorf("days: %d is not between 1 and %d", days, MaxDays)
	}
	if s.Planner == nil || s.Pipeline == nil || s.Store == nil || s.Queue == nil || s.Recorder == nil || s.Clock == nil {
		return Report{}, errors.New("forecast: planner, pipeline, store, queue, recorder and clock are required")
	}
	tick := s.Tick
	if tick <= 0 {
		tick = DefaultTick
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	t := newTally(loc)
	s.Queue.mu.Lock()
	s.Queue.planned = func(r nudge.Reminder, _ time.Time) { t.row(s.Clock.Now(), r.Channel).Planned++ }
	s.Queue.mu.Unlock()
	defer func() {
		s.Queue.mu.Lock()
		s.Queue.planned = nil
		s.Queue.mu.Unlock()
	}()

	start = start.UTC()
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	nextTick := start
	retries := map[string]int{}
	finished := map[string]bool{}
	day := 0
	dayEnd := start.Add(24 * time.Hour)
	for {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		now := nextTick
		if at, ok := s.Queue.next(); ok && at.Before(now) {
			now = at
		}
		if now.Before(start) {
			now = start
		}
		for !now.Before(dayEnd) && day < days {
			if s.Progress != nil {
				s.Progress(day+1, nudge.DateOf(dayEnd.Add(-time.Nanosecond).In(loc)))
			}
			day++
			dayEnd = dayEnd.Add(24 * time.Hour)
		}
		if !now.Before(end) {
			break
		}
		s.Clock.Set(now)
		if !now.Before(nextTick) {
			if _, err := s.Planner.Tick(ctx); err != nil {
				return Report{}, fmt.Errorf("planner tick at %s: %w", now.Format(time.RFC3339), err)
			}
			for !nextTick.After(now) {
				nextTick = nextTick.Add(tick)
			}
		}
		for {
			id, ch, ok := s.Queue.pop(now)
			if !ok {
				break
			}
			if err := s.process(ctx, t, id, ch, now, retries, finished); err != nil {
				return Report{}, err
			}
		}
		for _, sent := range s.Recorder.take() {
			t.sent(sent)
		}
	}
	rep := t.report(start, days, s.Prices)
	rep.Accounts = s.Accounts
	rep.CallMinutes = s.Recorder.CallMinutes
	if rep.CallMinutes <= 0 {
		rep.CallMinutes = DefaultCallMinutes
	}
	return rep, nil
}

// process runs one reminder through the pipeline at now and counts what
// became of it, as the worker's task server would act on the result.
// A reminder's end is counted once, however often it runs.
func (s *Sim) process(ctx context.Context, t *tally, id string, ch nudge.ChannelKind, now time.Time, retries map[string]int, finished map[string]bool) error {
	err := s.Pipeline.Process(ctx, id)
	var d *dispatcher.DelayError
	switch {
	case errors.As(err, &d):
		if errors.Is(d.Kind, dispatcher.ErrDeferred) {
			t.row(now, ch).Deferred[d.Reason]++
		}
		delay := d.Delay
		if delay <= 0 {
			delay = time.Second
		}
		s.Queue.again(id, ch, now.Add(delay))
		return nil
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		retries[id]++
		if retries[id] > dispatcher.DefaultMaxRetry {
			t.row(now, ch).Failed++
			t.error(fmt.Errorf("gave up after %d runs: %w", retries[id], err))
			return nil
		}
		s.Queue.again(id, ch, now.Add(DefaultRetryDelay))
		return nil
	}
	if finished[id] {
		return nil
	}
	r, _, err := s.Store.LoadReminder(ctx, id)
	if err != nil {
		return fmt.Errorf("reading reminder %s: %w", id, err)
	}
	if r.Status.Terminal() {
		finished[id] = true
	}
	switch r.Status {
	case nudge.ReminderSuppressed:
		t.row(now, ch).Suppressed[r.Reason]++
	case nudge.ReminderExpired:
		t.row(now, ch).Expired++
	case nudge.ReminderFailed, nudge.ReminderUnknown:
		t.row(now, ch).Failed++
	}
	return nil
}
