package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nudgehq/nudge"
)

// aloneError aborts a batch of outcomes so that each is written in a
// transaction of its own, where only its own failure rolls it back. It reads
// as the error it wraps.
type aloneError struct{ err error }

func (e aloneError) Error() string { return e.err.Error() }
func (e aloneError) Unwrap() error { return e.err }

// RecordOutcomes writes every outcome in one transaction: each one's attempt
// update (UpdateAttempt's rules), reminder change (SetReminderStatus's) and
// events, the events of the whole batch in one multi-row insert. Attempts
// are updated in id order, so two batches never wait on each other's row
// locks in opposite orders. When any outcome cannot be written (a database
// error, a reminder that does not exist, an invalid event) the transaction is
// rolled back and each outcome is written in a transaction of its own, so
// that each gets its own result. An attempt that does not exist is that
// outcome's ErrNotFound and writes nothing of it, in either mode.
func (db *DB) RecordOutcomes(ctx context.Context, outcomes []nudge.Outcome) []nudge.OutcomeResult {
	results := make([]nudge.OutcomeResult, len(outcomes))
	if len(outcomes) == 0 {
		return results
	}
	order := make([]int, len(outcomes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(outcomes[a].AttemptID, outcomes[b].AttemptID) })
	err := errNotPiped
	if db.backend == Postgres {
		err = db.recordOutcomesPiped(ctx, outcomes, order, results)
	}
	if errors.Is(err, errNotPiped) || errors.Is(err, errRepeated) {
		repeated := errors.Is(err, errRepeated)
		clear(results)
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var events []nudge.Event
			err := errRepeated
			if !repeated {
				events, err = db.recordOutcomesSet(ctx, tx, outcomes, order, results)
			}
			if errors.Is(err, errRepeated) {
				events, err = db.recordOutcomesInOrder(ctx, tx, outcomes, order, results)
			}
			if err != nil {
				return err
			}
			return db.appendEvents(ctx, tx, events)
		})
	}
	if err == nil {
		return results
	}
	for _, i := range order {
		var r nudge.OutcomeResult
		err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
			if r, err = db.recordOutcome(ctx, tx, outcomes[i]); err != nil || !writesEvents(outcomes[i], r) {
				return err
			}
			return db.appendEvents(ctx, tx, outcomeEvents(outcomes[i], r))
		})
		if err != nil {
			r = nudge.OutcomeResult{Err: fmt.Errorf("record outcome of attempt %s: %w", outcomeName(outcomes[i]), err)}
		}
		results[i] = r
	}
	return results
}

// recordOutcomesInOrder writes the outcomes one after another in tx, each
// seeing the ones before it, and returns the events to append.
func (db *DB) recordOutcomesInOrder(ctx context.Context, tx *sql.Tx, outcomes []nudge.Outcome, order []int, results []nudge.OutcomeResult) ([]nudge.Event, error) {
	var events []nudge.Event
	for _, i := range order {
		r, err := db.recordOutcome(ctx, tx, outcomes[i])
		if err != nil {
			return nil, err
		}
		results[i] = r
		if writesEvents(outcomes[i], r) {
			events = append(events, outcomeEvents(outcomes[i], r)...)
		}
	}
	return events, nil
}

// writesEvents reports whether o's events are appended once o was applied
// with result r.
func writesEvents(o nudge.Outcome, r nudge.OutcomeResult) bool {
	return r.Err == nil && (!o.EventsIfChanged || r.AttemptChanged)
}

// recordOutcome writes o's attempt update and reminder change in tx. An
// attempt that does not exist is the result's ErrNotFound (nothing written);
// anything else that keeps o from being written whole is an error wrapping
// aloneError, or the database's error.
func (db *DB) recordOutcome(ctx context.Context, tx *sql.Tx, o nudge.Outcome) (nudge.OutcomeResult, error) {
	var r nudge.OutcomeResult
	if err := checkOutcome(o); err != nil {
		return r, err
	}
	switch {
	case o.AttemptID != "":
		a, changed, err := db.updateAttempt(ctx, tx, o.AttemptID, o.Attempt)
		if errors.Is(err, nudge.ErrNotFound) {
			r.Err = err
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("update attempt %s: %w", o.AttemptID, err)
		}
		r.AttemptChanged, r.Attempt = changed, a
	case o.ProviderID != "":
		cur, err := db.lockAttemptByProvider(ctx, tx, o.ProviderID)
		if errors.Is(err, nudge.ErrNotFound) {
			r.Err = err
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("lock attempt with provider id %s: %w", o.ProviderID, err)
		}
		a, changed, err := db.applyAttemptUpdate(ctx, tx, cur, o.Attempt)
		if err != nil {
			return r, fmt.Errorf("update attempt %s: %w", cur.ID, err)
		}
		r.AttemptChanged, r.Attempt = changed, a
	}
	if rc := o.Reminder; rc.ID != "" {
		err := db.setReminderStatus(ctx, tx, tx, rc.ID, rc.Status, rc.Reason, rc.NextAt, rc.At)
		switch {
		case errors.Is(err, nudge.ErrConflict):
			r.ReminderFinal = true
		case errors.Is(err, nudge.ErrNotFound):
			return r, aloneError{err}
		case err != nil:
			return r, err
		}
	}
	return r, nil
}

// byProvider reports whether o names its attempt by provider id.
func byProvider(o nudge.Outcome) bool {
	return o.AttemptID == "" && o.ProviderID != ""
}

// outcomeName names o's attempt in an error.
func outcomeName(o nudge.Outcome) string {
	if byProvider(o) {
		return "with provider id " + o.ProviderID
	}
	return o.AttemptID
}

// outcomeEvents returns o's events as written with result r: an outcome
// that names its attempt by provider id gets the attempt's lender, account,
// reminder and id in the events that leave them empty.
func outcomeEvents(o nudge.Outcome, r nudge.OutcomeResult) []nudge.Event {
	if !byProvider(o) || r.Attempt.ID == "" {
		return o.Events
	}
	events := slices.Clone(o.Events)
	for i := range events {
		e := &events[i]
		if e.Lender == "" {
			e.Lender = r.Attempt.Lender
		}
		if e.AccountID == "" {
			e.AccountID = r.Attempt.AccountID
		}
		if e.ReminderID == "" {
			e.ReminderID = r.Attempt.ReminderID
		}
		if e.AttemptID == "" {
			e.AttemptID = r.Attempt.ID
		}
	}
	return events
}

// appendEvents checks events as AppendEvent does and appends them through
// q in the order given (insertEvents).
func (db *DB) appendEvents(ctx context.Context, q querier, events []nudge.Event) error {
	for _, e := range events {
		if err := checkEvent(e); err != nil {
			return aloneError{err}
		}
	}
	return db.insertEvents(ctx, q, events)
}
