package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge"
)

// MaxFeedPage bounds one read of the feed.
const MaxFeedPage = 1000

// feedColumns are the columns scanEvent reads, in its order.
const feedColumns = `id, lender, account_id, reminder_id, attempt_id, kind, action, reason, rule, detail, at, feed_pos`

// Feed returns up to limit entries of the lender's event log after
// position after, in position order.
//
// Event ids come from a sequence, and transactions commit in any order, so
// an id can become visible after a larger one was read: paging by id would
// skip it. Feed instead gives each event a position when a reader first
// sees it committed, under a per-lender lock (an advisory lock on
// PostgreSQL; SQLite has one writer), after every position given before:
// positions only grow, so a reader resuming after any cursor misses
// nothing.
func (db *DB) Feed(ctx context.Context, lender string, after int64, limit int) ([]nudge.FeedEntry, error) {
	if lender == "" {
		return nil, errors.New("feed: lender is required")
	}
	if limit <= 0 || limit > MaxFeedPage {
		limit = MaxFeedPage
	}
	var out []nudge.FeedEntry
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.positionFeed(ctx, tx, lender); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT `+feedColumns+` FROM events
WHERE lender = ? AND feed_pos > ? ORDER BY feed_pos LIMIT ?`, lender, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFeedEntry(rows)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("feed of %s after %d: %w", lender, after, err)
	}
	return out, nil
}

// FeedEvent returns the lender's event with log id id and its position;
// an event not yet positioned gets one first.
func (db *DB) FeedEvent(ctx context.Context, lender string, id int64) (nudge.FeedEntry, error) {
	read := func(q querier) (nudge.FeedEntry, error) {
		return scanFeedEntry(db.queryRow(ctx, q, `SELECT `+feedColumns+` FROM events WHERE lender = ? AND id = ?`, lender, id))
	}
	f, err := read(db.read)
	if err == nil && f.Position == 0 {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.positionFeed(ctx, tx, lender); err != nil {
				return err
			}
			f, err = read(tx)
			return err
		})
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.FeedEntry{}, fmt.Errorf("event %d of %s: %w", id, lender, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.FeedEntry{}, fmt.Errorf("event %d of %s: %w", id, lender, err)
	}
	return f, nil
}

// positionFeed gives every committed event of the lender that has no feed
// position the next ones, in id order, holding the lender's feed lock until
// tx ends.
func (db *DB) positionFeed(ctx context.Context, tx *sql.Tx, lender string) error {
	if err := db.lock(ctx, tx, "feed:"+lender); err != nil {
		return err
	}
	if _, err := db.exec(ctx, tx, `UPDATE events SET feed_pos = t.pos
FROM (SELECT e.id,
        (SELECT COALESCE(MAX(m.feed_pos), 0) FROM events m WHERE m.lender = ? AND m.feed_pos IS NOT NULL)
          + ROW_NUMBER() OVER (ORDER BY e.id) AS pos
      FROM events e WHERE e.lender = ? AND e.feed_pos IS NULL) AS t
WHERE events.id = t.id`, lender, lender); err != nil {
		return fmt.Errorf("position events: %w", err)
	}
	return nil
}

// feedHead returns the lender's last feed position after positioning what
// is new, in tx.
func (db *DB) feedHead(ctx context.Context, tx *sql.Tx, lender string) (int64, error) {
	if err := db.positionFeed(ctx, tx, lender); err != nil {
		return 0, err
	}
	var head int64
	if err := db.queryRow(ctx, tx, `SELECT COALESCE(MAX(feed_pos), 0) FROM events WHERE lender = ? AND feed_pos IS NOT NULL`, lender).Scan(&head); err != nil {
		return 0, fmt.Errorf("feed head: %w", err)
	}
	return head, nil
}

// scanFeedEntry reads the feedColumns of one row.
func scanFeedEntry(row interface{ Scan(...any) error }) (nudge.FeedEntry, error) {
	var (
		f            nudge.FeedEntry
		kind, reason string
		detail       sql.NullString
		pos          sql.NullInt64
	)
	e := &f.Event
	if err := row.Scan(&e.ID, &e.Lender, &e.AccountID, &e.ReminderID, &e.AttemptID, &kind, &e.Action, &reason,
		&e.Rule, &detail, timeCol{&e.At}, &pos); err != nil {
		return nudge.FeedEntry{}, err
	}
	e.Kind, e.Reason = nudge.EventKind(kind), nudge.Reason(reason)
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	f.Position = pos.Int64
	return f, nil
}
