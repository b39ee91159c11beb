package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/sendtime"
)

// sendTimeChunk bounds the rows of one upsert and the ids of one read.
const sendTimeChunk = 500

// sendTimeKey identifies a cell: an account, a channel and a local hour.
type sendTimeKey struct {
	account string
	channel string
	hour    int
}

// sendTimeCell is one account's counts on a channel at a local hour, with
// the segment it was counted in.
type sendTimeCell struct {
	key sendTimeKey
	sendtime.Segment
	sendtime.Count
}

// RollupSendTimes folds the lender's accepted SMS, call and email attempts
// created before until and not yet counted into send_time_counts: one trial
// per attempt at the local hour (in the borrower's primary zone: their
// stated zone, else the first zone the send decision used) of its send, and
// a success when, within window of it, the borrower replied on the same
// channel (other than an opt-out, a wrong number or a complaint), answered
// the call (a person, or
// no machine detection) or promised to pay. The counts and the lender's
// rolled_until move together in one transaction, under a lock, so every
// attempt is counted once whatever runs it concurrently.
func (db *DB) RollupSendTimes(ctx context.Context, lender string, until time.Time, window time.Duration) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lock(ctx, tx, "send_time_rollup:"+lender); err != nil {
			return err
		}
		var from time.Time
		err := db.queryRow(ctx, tx, `SELECT rolled_until FROM send_time_rollups WHERE lender = ?`+db.forUpdate(), lender).Scan(timeCol{&from})
		fresh := errors.Is(err, sql.ErrNoRows)
		if err != nil && !fresh {
			return fmt.Errorf("reading the send-time rollup of %s: %w", lender, err)
		}
		until = until.UTC().Truncate(time.Microsecond)
		if !fresh && !until.After(from) {
			return nil
		}
		cells, err := db.sendTimeCells(ctx, tx, lender, from, until, window)
		if err != nil {
			return err
		}
		for i := 0; i < len(cells); i += sendTimeChunk {
			part := cells[i:min(i+sendTimeChunk, len(cells))]
			args := make([]any, 0, len(part)*9)
			for _, c := range part {
				args = append(args, lender, c.key.account, c.key.channel, c.key.hour, c.Portfolio, c.Language, c.Zone, c.Trials, c.Successes)
			}
			_, err := db.exec(ctx, tx, `INSERT INTO send_time_counts (lender, account_id, channel, hour, portfolio, language, zone, trials, successes)
VALUES `+valuesRows(len(part), 9)+`
ON CONFLICT (lender, account_id, channel, hour) DO UPDATE SET
  trials = send_time_counts.trials + excluded.trials,
  successes = send_time_counts.successes + excluded.successes,
  portfolio = excluded.portfolio, language = excluded.language, zone = excluded.zone`, args...)
			if err != nil {
				return fmt.Errorf("writing send-time counts of %s: %w", lender, err)
			}
		}
		if fresh {
			_, err = db.exec(ctx, tx, `INSERT INTO send_time_rollups (lender, rolled_until) VALUES (?, ?)`, lender, db.tv(until))
		} else {
			_, err = db.exec(ctx, tx, `UPDATE send_time_rollups SET rolled_until = ? WHERE lender = ?`, db.tv(until), lender)
		}
		if err != nil {
			return fmt.Errorf("moving the send-time rollup of %s: %w", lender, err)
		}
		return nil
	})
}

// sendTimeCells reads the lender's attempts created in [from, until) and
// sums them per account, channel and local hour.
func (db *DB) sendTimeCells(ctx context.Context, q querier, lender string, from, until time.Time, window time.Duration) ([]sendTimeCell, error) {
	within := func(col string) string {
		return col + " >= a.created_at AND " + col + " < " + db.plus("a.created_at", window)
	}
	answered := "a.channel = '" + string(nudge.Voice) + "' AND a.status = '" + string(nudge.AttemptCompleted) + "' AND a.answered_by IN ('', 'human')"
	replied := "EXISTS (SELECT 1 FROM replies p WHERE p.lender = a.lender AND p.account_id = a.account_id AND p.channel = a.channel AND " + within("p.created_at") +
		" AND p.intent NOT IN (" + sqlList([]nudge.Intent{nudge.IntentOptOut, nudge.IntentWrongNumber, nudge.IntentComplaint}) + "))"
	promised := "EXISTS (SELECT 1 FROM promises p WHERE p.lender = a.lender AND p.account_id = a.account_id AND " + within("p.created_at") + ")"
	fromArg := db.tv(from)
	if from.IsZero() {
		fromArg = db.tv(time.Unix(0, 0))
	}
	rows, err := db.query(ctx, q, `SELECT a.account_id, a.channel, COALESCE(a.sending_at, a.created_at), a.zones,
  COALESCE(acc.portfolio, ''), COALESCE(acc.borrower_language, ''), COALESCE(acc.borrower_timezone, ''),
  CASE WHEN (`+answered+`) OR `+replied+` OR `+promised+` THEN 1 ELSE 0 END
FROM attempts a
LEFT JOIN accounts acc ON acc.lender = a.lender AND acc.id = a.account_id
WHERE a.lender = ? AND a.created_at >= ? AND a.created_at < ?
  AND a.channel IN (`+sqlList([]nudge.ChannelKind{nudge.SMS, nudge.Voice, nudge.Email})+`)
  AND a.status IN (`+sqlList(sentStatuses)+`)`, lender, fromArg, db.tv(until))
	if err != nil {
		return nil, fmt.Errorf("reading the attempts of %s to count by hour: %w", lender, err)
	}
	defer rows.Close()
	index := map[sendTimeKey]int{}
	var cells []sendTimeCell
	for rows.Next() {
		var (
			c             sendTimeCell
			at            time.Time
			zones, stated string
			success       int
		)
		if err := rows.Scan(&c.key.account, &c.key.channel, timeCol{&at}, &zones, &c.Portfolio, &c.Language, &stated, &success); err != nil {
			return nil, err
		}
		var zs []string
		if zones != "" && zones != "null" {
			if err := json.Unmarshal([]byte(zones), &zs); err != nil {
				return nil, fmt.Errorf("attempt of %s/%s: zones: %w", lender, c.key.account, err)
			}
		}
		loc := primaryZone(stated, zs)
		c.Zone = loc.String()
		c.key.hour = at.In(loc).Hour()
		if i, ok := index[c.key]; ok {
			cells[i].Trials++
			cells[i].Successes += success
			if c.Segment != cells[i].Segment {
				cells[i].Segment = c.Segment
			}
			continue
		}
		c.Trials, c.Successes = 1, success
		index[c.key] = len(cells)
		cells = append(cells, c)
	}
	return cells, rows.Err()
}

// primaryZone is the borrower's stated zone, else the first of zones that
// loads, else UTC (compliance.PrimaryLocation's rule, kept here so the
// store does not import compliance).
func primaryZone(stated string, zones []string) *time.Location {
	if stated != "" {
		if loc, err := nudge.LoadLocation(stated); err == nil {
			return loc
		}
	}
	for _, z := range zones {
		if loc, err := nudge.LoadLocation(z); err == nil {
			return loc
		}
	}
	return time.UTC
}

// SendTimeCounts returns the send-time counts of the lender's accounts ids.
func (db *DB) SendTimeCounts(ctx context.Context, lender string, ids []string) ([]sendtime.Row, error) {
	var out []sendtime.Row
	for i := 0; i < len(ids); i += sendTimeChunk {
		part := ids[i:min(i+sendTimeChunk, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, lender)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := db.query(ctx, db.read, `SELECT account_id, portfolio, language, zone, channel, hour, trials, successes
FROM send_time_counts WHERE lender = ? AND account_id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading send-time counts: %w", err)
		}
		out, err = scanSendTimeRows(rows, out)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SendTimePool returns the lender's send-time counts summed per segment
// (portfolio, language, zone), channel and hour.
func (db *DB) SendTimePool(ctx context.Context, lender string) ([]sendtime.Row, error) {
	rows, err := db.query(ctx, db.read, `SELECT '', portfolio, language, zone, channel, hour, SUM(trials), SUM(successes)
FROM send_time_counts WHERE lender = ? GROUP BY portfolio, language, zone, channel, hour`, lender)
	if err != nil {
		return nil, fmt.Errorf("reading pooled send-time counts: %w", err)
	}
	return scanSendTimeRows(rows, nil)
}

func scanSendTimeRows(rows *sql.Rows, out []sendtime.Row) ([]sendtime.Row, error) {
	defer rows.Close()
	for rows.Next() {
		var (
			r  sendtime.Row
			ch string
		)
		if err := rows.Scan(&r.AccountID, &r.Portfolio, &r.Language, &r.Zone, &ch, &r.Hour, &r.Trials, &r.Successes); err != nil {
			return nil, err
		}
		r.Channel = nudge.ChannelKind(ch)
		out = append(out, r)
	}
	return out, rows.Err()
}

var _ sendtime.Source = (*DB)(nil)
