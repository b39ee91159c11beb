package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/nudgehq/nudge"
)

// LoadReminder returns the reminder and its attempts (at most one per
// channel), in one round trip on PostgreSQL, or nudge.ErrNotFound.
func (db *DB) LoadReminder(ctx context.Context, id string) (nudge.Reminder, []nudge.Attempt, error) {
	var (
		rs       []nudge.Reminder
		attempts []nudge.Attempt
	)
	err := db.readBatch(ctx,
		readQuery{sql: `SELECT ` + reminderCols + ` FROM reminders WHERE id = ?`, args: []any{id},
			row: func(s interface{ Scan(...any) error }) error {
				r, err := scanReminder(s)
				rs = append(rs, r)
				return err
			}},
		readQuery{sql: `SELECT ` + attemptCols + ` FROM attempts WHERE reminder_id = ? ORDER BY channel`, args: []any{id},
			row: func(s interface{ Scan(...any) error }) error {
				a, err := scanAttempt(s)
				attempts = append(attempts, a)
				return err
			}},
	)
	if err != nil {
		return nudge.Reminder{}, nil, fmt.Errorf("load reminder %s: %w", id, err)
	}
	if len(rs) == 0 {
		return nudge.Reminder{}, nil, fmt.Errorf("reminder %s: %w", id, nudge.ErrNotFound)
	}
	return rs[0], attempts, nil
}

// AccountSnapshot returns the lender's account with its contacts and holds
// and whatever q asks for beside it, in one round trip on PostgreSQL, or
// nudge.ErrNotFound when there is no such account.
func (db *DB) AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error) {
	var (
		snap  nudge.AccountSnapshot
		accts []nudge.Account
		hits  []optOutRow
	)
	queries := []readQuery{
		{sql: `SELECT ` + accountCols + ` FROM accounts WHERE lender = ? AND id = ?`, args: []any{lender, id},
			row: func(s interface{ Scan(...any) error }) error {
				a, err := db.scanAccount(s)
				a.Contacts, a.Holds = []nudge.Contact{}, []nudge.Hold{}
				accts = append(accts, a)
				return err
			}},
		{sql: contactsAndHoldsQuery("?"), args: []any{lender, id, lender, id},
			row: func(s interface{ Scan(...any) error }) error {
				if len(accts) == 0 {
					return nil // the account was deleted between the two statements
				}
				return scanContactOrHold(s, func(string) *nudge.Account { return &accts[0] })
			}},
	}
	if !q.HistorySince.IsZero() {
		queries = append(queries, readQuery{sql: accountHistoryQuery, args: []any{lender, id, db.tv(q.HistorySince)},
			row: func(s interface{ Scan(...any) error }) error {
				a, err := scanAttempt(s)
				snap.History = append(snap.History, a)
				return err
			}})
	}
	var promises []nudge.Promise
	if q.Promise {
		queries = append(queries, readQuery{sql: activePromiseQuery, args: []any{lender, id, string(nudge.PromisePending), string(nudge.PromiseBroken)},
			row: func(s interface{ Scan(...any) error }) error {
				p, err := scanPromise(s)
				promises = append(promises, p)
				return err
			}})
	}
	if q.Pauses {
		queries = append(queries, readQuery{sql: lenderPausesQuery, args: []any{lender},
			row: func(s interface{ Scan(...any) error }) error {
				p, err := scanPause(s)
				snap.Pauses = append(snap.Pauses, p)
				return err
			}})
	}
	hashes := db.hashRefs(q.OptOuts)
	if len(q.OptOuts) > 0 {
		queries = append(queries, db.optOutsQuery(lender, q.OptOuts, hashes, &hits))
	}
	if q.ContactedBesides != "" {
		queries = append(queries, readQuery{sql: `SELECT 1 FROM attempts
WHERE lender = ? AND account_id = ? AND reminder_id <> ? AND provider_id <> '' LIMIT 1`, args: []any{lender, id, q.ContactedBesides},
			row: func(s interface{ Scan(...any) error }) error {
				var one int
				snap.Contacted = true
				return s.Scan(&one)
			}})
	}
	if err := db.readBatch(ctx, queries...); err != nil {
		return nudge.AccountSnapshot{}, fmt.Errorf("account snapshot %s/%s: %w", lender, id, err)
	}
	if len(accts) == 0 {
		return nudge.AccountSnapshot{}, fmt.Errorf("account %s/%s: %w", lender, id, nudge.ErrNotFound)
	}
	snap.Account = accts[0]
	if p, ok := nudge.ActivePromise(promises); ok {
		snap.Promise = &p
	}
	snap.OptedOut = db.optedOutRefs(ctx, lender, q.OptOuts, hashes, hits)
	return snap, nil
}

// OptedOut returns those of refs that opted out of their channel for the
// lender, with one query.
func (db *DB) OptedOut(ctx context.Context, lender string, refs []nudge.ContactRef) ([]nudge.ContactRef, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	var hits []optOutRow
	hashes := db.hashRefs(refs)
	if err := db.readBatch(ctx, db.optOutsQuery(lender, refs, hashes, &hits)); err != nil {
		return nil, fmt.Errorf("opt-outs of %d addresses for %s: %w", len(refs), lender, err)
	}
	return db.optedOutRefs(ctx, lender, refs, hashes, hits), nil
}

// optOutRow is an opt-out found by optOutsQuery.
type optOutRow struct {
	channel, hash string
	keyed         bool
}

// refHashes are a ContactRef's keyed and plain address hashes.
type refHashes struct{ keyed, plain string }

// hashRefs computes every ref's hashes once, for optOutsQuery and
// optedOutRefs.
func (db *DB) hashRefs(refs []nudge.ContactRef) []refHashes {
	out := make([]refHashes, len(refs))
	for i, r := range refs {
		out[i] = refHashes{keyed: db.AddressHash(r.Channel, r.Address), plain: AddressHash(r.Channel, r.Address)}
	}
	return out
}

// optOutsQuery reads the lender's opt-outs of the refs' channels stored
// under the keyed or the plain hash of any ref (hashes, as IsOptedOut
// compares them) into hits. The channels let both backends look the hashes
// up in the opt-outs' key (lender, channel, address_hash) rather than read
// every opt-out of the lender.
func (db *DB) optOutsQuery(lender string, refs []nudge.ContactRef, hashes []refHashes, hits *[]optOutRow) readQuery {
	args := make([]any, 0, 1+len(refs)+2*len(hashes))
	args = append(args, lender)
	channels := 0
	for i, r := range refs {
		if !slices.ContainsFunc(refs[:i], func(o nudge.ContactRef) bool { return o.Channel == r.Channel }) {
			args = append(args, string(r.Channel))
			channels++
		}
	}
	for _, h := range hashes {
		args = append(args, h.keyed, h.plain)
	}
	return readQuery{sql: `SELECT channel, address_hash, keyed FROM opt_outs WHERE lender = ? AND channel IN (` + placeholders(channels) +
		`) AND address_hash IN (` + placeholders(2*len(hashes)) + `)`,
		args: args,
		row: func(s interface{ Scan(...any) error }) error {
			var h optOutRow
			if err := s.Scan(&h.channel, &h.hash, &h.keyed); err != nil {
				return err
			}
			*hits = append(*hits, h)
			return nil
		}}
}

// optedOutRefs matches hits back to refs. An opt-out found under its old
// plain hash is re-keyed, as IsOptedOut does; a failure leaves it for the
// next check and the answer stands either way.
func (db *DB) optedOutRefs(ctx context.Context, lender string, refs []nudge.ContactRef, hashes []refHashes, hits []optOutRow) []nudge.ContactRef {
	var out []nudge.ContactRef
	for i, r := range refs {
		found, rekey := false, false
		for _, h := range hits {
			if h.channel != string(r.Channel) || (h.hash != hashes[i].keyed && h.hash != hashes[i].plain) {
				continue
			}
			found, rekey = true, rekey || !h.keyed
		}
		if rekey {
			_, _ = db.rekeyOptOut(ctx, db.write, lender, r.Channel, r.Address)
		}
		if found {
			out = append(out, r)
		}
	}
	return out
}

// accountHistoryQuery reads the account's attempts created at or after a
// time, oldest first. Its arguments are the lender, the account and the
// time.
const accountHistoryQuery = `SELECT ` + attemptCols + ` FROM attempts
WHERE lender = ? AND account_id = ? AND created_at >= ? ORDER BY created_at, id`

// activePromiseQuery reads the promises nudge.ActivePromise chooses the
// active one from: the pending ones, and the broken instalments of plans
// (whose later instalments no longer pause the cadence). Its arguments are
// the lender, the account, PromisePending and PromiseBroken.
const activePromiseQuery = `SELECT ` + promiseCols + ` FROM promises
WHERE lender = ? AND account_id = ? AND (status = ? OR (status = ? AND plan_id <> '')) ORDER BY created_at, id`
