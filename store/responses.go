package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// newID returns prefix_ followed by 26 random base32 characters.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails.
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NormalizeAddress returns the form of address that opt-outs compare: an
// email address trimmed and lower-cased, a phone number trimmed.
func NormalizeAddress(channel nudge.ChannelKind, address string) string {
	address = strings.TrimSpace(address)
	if channel == nudge.Email {
		return strings.ToLower(address)
	}
	return address
}

// replyInsertCols are the columns a new reply is inserted with; replyCols
// adds its place in the queue of replies needing a person.
const (
	replyInsertCols = `id, lender, account_id, channel, from_address, to_address, body, intent, provider_id, needs_person, created_at`
	replyCols       = replyInsertCols + `, assignee, assigned_at, resolved_by, resolved_at, resolution`
)

func scanReply(s interface{ Scan(...any) error }) (nudge.Reply, error) {
	var (
		r               nudge.Reply
		channel, intent string
	)
	err := s.Scan(&r.ID, &r.Lender, &r.AccountID, &channel, &r.From, &r.To, &r.Body, &intent,
		&r.ProviderID, &r.NeedsPerson, timeCol{&r.CreatedAt},
		&r.Assignee, timeCol{&r.AssignedAt}, &r.ResolvedBy, timeCol{&r.ResolvedAt}, &r.Resolution)
	r.Channel, r.Intent = nudge.ChannelKind(channel), nudge.Intent(intent)
	return r, err
}

// InsertReply stores r, once per non-empty ProviderID, and reports whether it
// was new. An empty r.ID gets a new id. events (the reply's events) are
// appended in the same transaction when the reply is new.
func (db *DB) InsertReply(ctx context.Context, r nudge.Reply, events ...nudge.Event) (bool, error) {
	if r.Lender == "" {
		return false, errors.New("insert reply: lender is required")
	}
	if r.ID == "" {
		r.ID = newID("rep")
	}
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO replies (`+replyInsertCols+`) VALUES (`+placeholders(11)+`) ON CONFLICT DO NOTHING`,
			r.ID, r.Lender, r.AccountID, string(r.Channel), r.From, r.To, r.Body, string(r.Intent), r.ProviderID,
			r.NeedsPerson, db.tv(r.CreatedAt))
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil || n == 0 {
			return err
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return false, fmt.Errorf("insert reply %s: %w", r.ID, err)
	}
	return n > 0, nil
}

// ListReplies returns the lender's replies oldest first; with needsPerson
// only those that need a person.
func (db *DB) ListReplies(ctx context.Context, lender string, needsPerson bool) ([]nudge.Reply, error) {
	q := `SELECT ` + replyCols + ` FROM replies WHERE lender = ?`
	args := []any{lender}
	if needsPerson {
		q += ` AND needs_person = ?`
		args = append(args, true)
	}
	rows, err := db.query(ctx, db.read, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list replies of %s: %w", lender, err)
	}
	defer rows.Close()
	var out []nudge.Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("list replies of %s: %w", lender, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list replies of %s: %w", lender, err)
	}
	return out, nil
}

const promiseCols = `id, lender, account_id, amount, currency, due, status, channel, reply_id, plan_id, created_at, updated_at`

func scanPromise(s interface{ Scan(...any) error }) (nudge.Promise, error) {
	var (
		p               nudge.Promise
		status, channel string
	)
	err := s.Scan(&p.ID, &p.Lender, &p.AccountID, &p.Amount, &p.Currency, dateCol{&p.Due}, &status, &channel,
		&p.ReplyID, &p.PlanID, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt})
	p.Status, p.Channel = nudge.PromiseStatus(status), nudge.ChannelKind(channel)
	return p, err
}

func validPromiseStatus(s nudge.PromiseStatus) bool {
	switch s {
	case nudge.PromisePending, nudge.PromiseKept, nudge.PromiseBroken, nudge.PromiseCanceled:
		return true
	}
	return false
}

// InsertPromise stores p. Defaults: a new id, status pending, UpdatedAt =
// CreatedAt. A promise whose id exists is refused with nudge.ErrConflict.
// events (the promise's) are appended in the same transaction.
func (db *DB) InsertPromise(ctx context.Context, p nudge.Promise, events ...nudge.Event) error {
	if len(events) == 0 {
		return db.insertPromise(ctx, db.write, p)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.insertPromise(ctx, tx, p); err != nil {
			return err
		}
		if err := db.appendEvents(ctx, tx, events); err != nil {
			return fmt.Errorf("insert promise %s: %w", p.ID, err)
		}
		return nil
	})
}

// insertPromise is InsertPromise on q (the database or a transaction).
func (db *DB) insertPromise(ctx context.Context, q querier, p nudge.Promise) error {
	if p.Lender == "" || p.AccountID == "" {
		return errors.New("insert promise: lender and account are required")
	}
	if p.ID == "" {
		p.ID = newID("prm")
	}
	if p.Status == "" {
		p.Status = nudge.PromisePending
	}
	if !validPromiseStatus(p.Status) {
		return fmt.Errorf("insert promise %s: unknown status %q", p.ID, p.Status)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	res, err := db.exec(ctx, q, `INSERT INTO promises (`+promiseCols+`) VALUES (`+placeholders(12)+`) ON CONFLICT DO NOTHING`,
		p.ID, p.Lender, p.AccountID, p.Amount, p.Currency, dv(p.Due), string(p.Status), string(p.Channel), p.ReplyID, p.PlanID,
		db.tv(p.CreatedAt), db.tv(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert promise %s: %w", p.ID, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("insert promise %s: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("insert promise %s: id exists: %w", p.ID, nudge.ErrConflict)
	}
	return nil
}

func (db *DB) listPromises(ctx context.Context, what, query string, args ...any) ([]nudge.Promise, error) {
	rows, err := db.query(ctx, db.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []nudge.Promise
	for rows.Next() {
		p, err := scanPromise(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ActivePromise returns the account's pending promise that pauses its
// cadence (nudge.ActivePromise: the earliest-dated pending one, not an
// instalment of a broken plan), or nudge.ErrNotFound.
func (db *DB) ActivePromise(ctx context.Context, lender, accountID string) (nudge.Promise, error) {
	ps, err := db.listPromises(ctx, "active promise", activePromiseQuery, lender, accountID, string(nudge.PromisePending), string(nudge.PromiseBroken))
	if err != nil {
		return nudge.Promise{}, err
	}
	p, ok := nudge.ActivePromise(ps)
	if !ok {
		return nudge.Promise{}, fmt.Errorf("active promise of %s/%s: %w", lender, accountID, nudge.ErrNotFound)
	}
	return p, nil
}

// SetPromiseStatus moves a pending promise to status. Setting the status it
// already has does nothing; changing a promise that is no longer pending
// returns nudge.ErrConflict; a missing promise nudge.ErrNotFound. events
// (the change's: promise kept, broken) are appended in the same transaction
// when the status changed, so a repeated call records nothing twice.
func (db *DB) SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error {
	if !validPromiseStatus(status) {
		return fmt.Errorf("set promise %s status: unknown status %q", id, status)
	}
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE promises SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			string(status), db.tv(now), id, string(nudge.PromisePending))
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil || n == 0 {
			return err
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("set promise %s status %s: %w", id, status, err)
	}
	if n > 0 {
		return nil
	}
	var cur string
	err = db.queryRow(ctx, db.read, `SELECT status FROM promises WHERE id = ?`, id).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("set promise status: promise %s: %w", id, nudge.ErrNotFound)
	case err != nil:
		return fmt.Errorf("set promise %s status %s: %w", id, status, err)
	case cur == string(status):
		return nil
	}
	return fmt.Errorf("set promise %s status %s: already %s: %w", id, status, cur, nudge.ErrConflict)
}

// PendingPromisesDueBefore returns every lender's pending promises whose date
// is before d, earliest date first.
func (db *DB) PendingPromisesDueBefore(ctx context.Context, d nudge.Date) ([]nudge.Promise, error) {
	if d.IsZero() {
		return nil, nil
	}
	return db.listPromises(ctx, "pending promises", `SELECT `+promiseCols+` FROM promises
WHERE status = ? AND due IS NOT NULL AND due < ? ORDER BY due, created_at, id`, string(nudge.PromisePending), d.String())
}

// ListPromises returns the account's promises oldest first.
func (db *DB) ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error) {
	return db.listPromises(ctx, "list promises", `SELECT `+promiseCols+` FROM promises
WHERE lender = ? AND account_id = ? ORDER BY created_at, id`, lender, accountID)
}

// AddOptOut records that o.Address may not be contacted on o.Channel by
// o.Lender and reports whether it was new. The keyed address hash
// (DB.AddressHash) is computed from the address (o.AddressHash is used only
// when the address is empty, and is taken to be keyed when the store is);
// a plain hash stored for the address before migration 0005 is re-keyed
// first.
//
// events (the opt-out's) are appended in the same transaction when the
// opt-out is new.
func (db *DB) AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error) {
	if o.Lender == "" || !o.Channel.Valid() {
		return false, fmt.Errorf("add opt-out: lender and a valid channel are required (got %q, %q)", o.Lender, o.Channel)
	}
	hash := o.AddressHash
	if o.Address != "" {
		hash = db.AddressHash(o.Channel, o.Address)
	}
	if hash == "" {
		return false, errors.New("add opt-out: address is required")
	}
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if o.Address != "" {
			if _, err := db.rekeyOptOut(ctx, tx, o.Lender, o.Channel, o.Address); err != nil {
				return err
			}
		}
		res, err := db.exec(ctx, tx, `INSERT INTO opt_outs (lender, channel, address, address_hash, source, reason, created_at, keyed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lender, channel, address_hash) DO NOTHING`,
			o.Lender, string(o.Channel), NormalizeAddress(o.Channel, o.Address), hash, o.Source, o.Reason, db.tv(o.CreatedAt), db.secret)
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil || n == 0 {
			return err
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return false, fmt.Errorf("add %s opt-out for %s: %w", o.Channel, o.Lender, err)
	}
	return n > 0, nil
}

// RemoveOptOut records an opt-in from address and reports whether an opt-out
// existed (under its keyed or its old plain hash). events (the opt-in's) are
// appended in the same transaction when an opt-out was removed.
func (db *DB) RemoveOptOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string, events ...nudge.Event) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM opt_outs WHERE lender = ? AND channel = ? AND address_hash IN (?, ?)`,
			lender, string(channel), db.AddressHash(channel, address), AddressHash(channel, address))
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil || n == 0 {
			return err
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return false, fmt.Errorf("remove %s opt-out for %s: %w", channel, lender, err)
	}
	return n > 0, nil
}

// IsOptedOut reports whether address opted out of channel for lender,
// comparing normalised addresses by their keyed hash, or by the plain hash
// of an opt-out stored before migration 0005, which it then re-keys.
func (db *DB) IsOptedOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string) (bool, error) {
	rows, err := db.query(ctx, db.read, `SELECT keyed FROM opt_outs WHERE lender = ? AND channel = ? AND address_hash IN (?, ?)`,
		lender, string(channel), db.AddressHash(channel, address), AddressHash(channel, address))
	if err != nil {
		return false, fmt.Errorf("is %s opted out for %s: %w", channel, lender, err)
	}
	found, plain := false, false
	for rows.Next() {
		var keyed bool
		if err := rows.Scan(&keyed); err != nil {
			rows.Close()
			return false, fmt.Errorf("is %s opted out for %s: %w", channel, lender, err)
		}
		found, plain = true, plain || !keyed
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return false, fmt.Errorf("is %s opted out for %s: %w", channel, lender, err)
	}
	if plain {
		// The number is seen again: its old hash becomes keyed. A failure
		// leaves it for the next check; the answer stands either way.
		_, _ = db.rekeyOptOut(ctx, db.write, lender, channel, address)
	}
	return found, nil
}

// ListOptOuts returns the lender's opt-outs oldest first.
func (db *DB) ListOptOuts(ctx context.Context, lender string) ([]nudge.OptOut, error) {
	rows, err := db.query(ctx, db.read, `SELECT lender, channel, address, address_hash, source, reason, created_at
FROM opt_outs WHERE lender = ? ORDER BY created_at, channel, address_hash`, lender)
	if err != nil {
		return nil, fmt.Errorf("list opt-outs of %s: %w", lender, err)
	}
	defer rows.Close()
	var out []nudge.OptOut
	for rows.Next() {
		var (
			o       nudge.OptOut
			channel string
		)
		if err := rows.Scan(&o.Lender, &channel, &o.Address, &o.AddressHash, &o.Source, &o.Reason, timeCol{&o.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list opt-outs of %s: %w", lender, err)
		}
		o.Channel = nudge.ChannelKind(channel)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list opt-outs of %s: %w", lender, err)
	}
	return out, nil
}
