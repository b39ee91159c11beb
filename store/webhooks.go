package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

var _ nudge.WebhookStore = (*DB)(nil)

// endpointColumns are the columns scanEndpoint reads, in its order.
const endpointColumns = `id, lender, url, description, event_types, secret, enabled, disabled_reason, disabled_at,
feed_cursor, failures, failing_since, created_at, updated_at`

// deliveryColumns are the columns scanDelivery reads, in its order.
const deliveryColumns = `id, endpoint_id, lender, account_id, event_id, feed_pos, event_type, status, attempts,
next_at, give_up_at, last_status, last_error, created_at, delivered_at`

func scanEndpoint(row interface{ Scan(...any) error }) (nudge.WebhookEndpoint, error) {
	var (
		e     nudge.WebhookEndpoint
		types string
	)
	if err := row.Scan(&e.ID, &e.Lender, &e.URL, &e.Description, &types, &e.Secret, &e.Enabled, &e.DisabledReason,
		timeCol{&e.DisabledAt}, &e.Cursor, &e.Failures, timeCol{&e.FailingSince}, timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt}); err != nil {
		return nudge.WebhookEndpoint{}, err
	}
	for _, t := range strings.Split(types, ",") {
		if t != "" {
			e.EventTypes = append(e.EventTypes, nudge.PublicEventType(t))
		}
	}
	return e, nil
}

func joinTypes(ts []nudge.PublicEventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

func scanDelivery(row interface{ Scan(...any) error }) (nudge.WebhookDelivery, error) {
	var (
		d           nudge.WebhookDelivery
		typ, status string
	)
	if err := row.Scan(&d.ID, &d.EndpointID, &d.Lender, &d.AccountID, &d.EventID, &d.Position, &typ, &status, &d.Attempts,
		timeCol{&d.NextAt}, timeCol{&d.GiveUpAt}, &d.LastStatus, &d.LastError, timeCol{&d.CreatedAt}, timeCol{&d.DeliveredAt}); err != nil {
		return nudge.WebhookDelivery{}, err
	}
	d.EventType, d.Status = nudge.PublicEventType(typ), nudge.WebhookDeliveryStatus(status)
	return d, nil
}

// CreateWebhookEndpoint stores e with its cursor at the feed's head, so the
// endpoint receives the events that come after; e.ID, Lender, URL, Secret
// and CreatedAt are required.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e nudge.WebhookEndpoint) (nudge.WebhookEndpoint, error) {
	if e.ID == "" || e.Lender == "" || e.URL == "" || e.Secret == "" || e.CreatedAt.IsZero() {
		return nudge.WebhookEndpoint{}, errors.New("create webhook endpoint: id, lender, url, secret and created_at are required")
	}
	e.UpdatedAt = e.CreatedAt
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		head, err := db.feedHead(ctx, tx, e.Lender)
		if err != nil {
			return err
		}
		e.Cursor = head
		_, err = db.exec(ctx, tx, `INSERT INTO webhook_endpoints (id, lender, url, description, event_types, secret, enabled,
disabled_reason, feed_cursor, failures, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			e.ID, e.Lender, e.URL, e.Description, joinTypes(e.EventTypes), e.Secret, e.Enabled, e.DisabledReason, e.Cursor,
			db.tv(e.CreatedAt), db.tv(e.UpdatedAt))
		return err
	})
	if err != nil {
		return nudge.WebhookEndpoint{}, fmt.Errorf("create webhook endpoint %s: %w", e.ID, err)
	}
	return e, nil
}

// GetWebhookEndpoint returns the lender's endpoint, or nudge.ErrNotFound.
func (db *DB) GetWebhookEndpoint(ctx context.Context, lender, id string) (nudge.WebhookEndpoint, error) {
	e, err := scanEndpoint(db.queryRow(ctx, db.read, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE lender = ? AND id = ?`, lender, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// ListWebhookEndpoints returns the lender's endpoints, oldest first.
func (db *DB) ListWebhookEndpoints(ctx context.Context, lender string) ([]nudge.WebhookEndpoint, error) {
	return db.endpoints(ctx, `WHERE lender = ?`, lender)
}

// AllWebhookEndpoints returns every lender's endpoints.
func (db *DB) AllWebhookEndpoints(ctx context.Context) ([]nudge.WebhookEndpoint, error) {
	return db.endpoints(ctx, ``)
}

func (db *DB) endpoints(ctx context.Context, where string, args ...any) ([]nudge.WebhookEndpoint, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+endpointColumns+` FROM webhook_endpoints `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	var out []nudge.WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhook endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// UpdateWebhookEndpoint writes e's URL, Description, EventTypes and
// Enabled; enabling clears the failure count and the disabled reason.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e nudge.WebhookEndpoint, now time.Time) error {
	q := `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, updated_at = ?`
	args := []any{e.URL, e.Description, joinTypes(e.EventTypes), e.Enabled, db.tv(now)}
	if e.Enabled {
		q += `, disabled_reason = '', disabled_at = NULL, failures = 0, failing_since = NULL`
	} else {
		q += `, disabled_reason = ?, disabled_at = COALESCE(disabled_at, ?)`
		args = append(args, e.DisabledReason, db.tv(now))
	}
	return db.updateEndpoint(ctx, e.Lender, e.ID, q, args...)
}

// SetWebhookSecret replaces the endpoint's sealed signing secret.
func (db *DB) SetWebhookSecret(ctx context.Context, lender, id, sealed string, now time.Time) error {
	if sealed == "" {
		return errors.New("set webhook secret: secret is required")
	}
	return db.updateEndpoint(ctx, lender, id, `UPDATE webhook_endpoints SET secret = ?, updated_at = ?`, sealed, db.tv(now))
}

func (db *DB) updateEndpoint(ctx context.Context, lender, id, q string, args ...any) error {
	res, err := db.exec(ctx, db.write, q+` WHERE lender = ? AND id = ?`, append(args, lender, id)...)
	if err != nil {
		return fmt.Errorf("update webhook endpoint %s: %w", id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("update webhook endpoint %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("webhook endpoint %s: %w", id, nudge.ErrNotFound)
	}
	return nil
}

// DeleteWebhookEndpoint removes the endpoint and its deliveries.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, lender, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `DELETE FROM webhook_endpoints WHERE lender = ? AND id = ?`, lender, id)
		if err != nil {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		}
		if n, err := rowsAffected(res); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("webhook endpoint %s: %w", id, nudge.ErrNotFound))
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`, id); err != nil {
			return fmt.Errorf("delete deliveries of webhook endpoint %s: %w", id, err)
		}
		return nil
	})
}

// DisableWebhookEndpoint turns an enabled endpoint off; it reports false
// when it was off already (or is gone).
func (db *DB) DisableWebhookEndpoint(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	res, err := db.exec(ctx, db.write, `UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, disabled_at = ?, updated_at = ?
WHERE id = ? AND enabled = ?`, false, reason, db.tv(now), db.tv(now), id, true)
	if err != nil {
		return false, fmt.Errorf("disable webhook endpoint %s: %w", id, err)
	}
	n, err := rowsAffected(res)
	return n > 0, err
}

// AddWebhookDeliveries inserts ds (ignoring those that exist) and moves the
// endpoint's cursor from from to to, in one transaction; it reports false,
// writing nothing, when the cursor is no longer from.
func (db *DB) AddWebhookDeliveries(ctx context.Context, endpointID string, from, to int64, ds []nudge.WebhookDelivery) (bool, error) {
	moved := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE webhook_endpoints SET feed_cursor = ? WHERE id = ? AND feed_cursor = ?`, to, endpointID, from)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil || n == 0 {
			return err
		}
		moved = true
		for _, d := range ds {
			if _, err := db.exec(ctx, tx, `INSERT INTO webhook_deliveries (id, endpoint_id, lender, account_id, event_id, feed_pos,
event_type, status, attempts, next_at, give_up_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
ON CONFLICT DO NOTHING`, d.ID, endpointID, d.Lender, d.AccountID, d.EventID, d.Position, string(d.EventType),
				string(nudge.WebhookPending), db.tv(d.NextAt), db.tv(d.GiveUpAt), db.tv(d.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add deliveries of webhook endpoint %s: %w", endpointID, err)
	}
	return moved, nil
}

// GetWebhookDelivery returns the delivery, or nudge.ErrNotFound.
func (db *DB) GetWebhookDelivery(ctx context.Context, id string) (nudge.WebhookDelivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, db.read, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("webhook delivery %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("webhook delivery %s: %w", id, err)
	}
	return d, nil
}

// DueWebhookDeliveries returns up to limit pending deliveries of enabled
// endpoints due at at that no earlier pending delivery of the same endpoint
// and account holds back, soonest first.
func (db *DB) DueWebhookDeliveries(ctx context.Context, at time.Time, limit int) ([]nudge.WebhookDelivery, error) {
	return db.deliveries(ctx, `WHERE d.status = ? AND d.next_at <= ? AND NOT EXISTS (
  SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.account_id = d.account_id
  AND p.status = ? AND p.feed_pos < d.feed_pos)
AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled = ?)
ORDER BY d.next_at, d.feed_pos LIMIT ?`, string(nudge.WebhookPending), db.tv(at), string(nudge.WebhookPending), true, limit)
}

// NextWebhookDelivery returns the earliest pending delivery of the endpoint
// and account, or nudge.ErrNotFound.
func (db *DB) NextWebhookDelivery(ctx context.Context, endpointID, accountID string) (nudge.WebhookDelivery, error) {
	ds, err := db.deliveries(ctx, `WHERE d.endpoint_id = ? AND d.account_id = ? AND d.status = ? ORDER BY d.feed_pos LIMIT 1`,
		endpointID, accountID, string(nudge.WebhookPending))
	if err != nil {
		return nudge.WebhookDelivery{}, err
	}
	if len(ds) == 0 {
		return nudge.WebhookDelivery{}, fmt.Errorf("pending webhook delivery of %s/%s: %w", endpointID, accountID, nudge.ErrNotFound)
	}
	return ds[0], nil
}

// WebhookDeliveryBlocked reports whether an earlier delivery of d's
// endpoint and account is still pending.
func (db *DB) WebhookDeliveryBlocked(ctx context.Context, d nudge.WebhookDelivery) (bool, error) {
	var n int
	err := db.queryRow(ctx, db.read, `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries
WHERE endpoint_id = ? AND account_id = ? AND status = ? AND feed_pos < ? LIMIT 1) AS t`,
		d.EndpointID, d.AccountID, string(nudge.WebhookPending), d.Position).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("webhook delivery %s: earlier pending: %w", d.ID, err)
	}
	return n > 0, nil
}

// RecordWebhookTry records t on its delivery and on the endpoint's failure
// count, in one transaction.
func (db *DB) RecordWebhookTry(ctx context.Context, t nudge.WebhookTry) (nudge.WebhookEndpoint, bool, error) {
	var (
		ep      nudge.WebhookEndpoint
		applied bool
	)
	if t.NextAt.IsZero() {
		t.NextAt = t.At
	}
	if len(t.Error) > 500 {
		t.Error = t.Error[:500]
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_at = ?,
last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND attempts = ? AND status = ?`,
			string(t.Status), db.tv(t.NextAt), t.HTTPStatus, t.Error, db.tv(deliveredAt(t)), t.DeliveryID, t.Attempts, string(nudge.WebhookPending))
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil || n == 0 {
			return err
		}
		applied = true
		var endpointID string
		if err := db.queryRow(ctx, tx, `SELECT endpoint_id FROM webhook_deliveries WHERE id = ?`, t.DeliveryID).Scan(&endpointID); err != nil {
			return err
		}
		if t.Status == nudge.WebhookDelivered {
			_, err = db.exec(ctx, tx, `UPDATE webhook_endpoints SET failures = 0, failing_since = NULL WHERE id = ?`, endpointID)
		} else {
			_, err = db.exec(ctx, tx, `UPDATE webhook_endpoints SET failures = failures + 1, failing_since = COALESCE(failing_since, ?) WHERE id = ?`,
				db.tv(t.At), endpointID)
		}
		if err != nil {
			return err
		}
		ep, err = scanEndpoint(db.queryRow(ctx, tx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, endpointID))
		return err
	})
	if err != nil {
		return nudge.WebhookEndpoint{}, false, fmt.Errorf("record try of webhook delivery %s: %w", t.DeliveryID, err)
	}
	return ep, applied, nil
}

func deliveredAt(t nudge.WebhookTry) time.Time {
	if t.Status == nudge.WebhookDelivered {
		return t.At
	}
	return time.Time{}
}

// ListWebhookDeliveries returns up to limit deliveries of the lender's
// endpoint, newest first, in status when one is given.
func (db *DB) ListWebhookDeliveries(ctx context.Context, lender, endpointID string, status nudge.WebhookDeliveryStatus, limit int) ([]nudge.WebhookDelivery, error) {
	where, args := `WHERE d.lender = ? AND d.endpoint_id = ?`, []any{lender, endpointID}
	if status != "" {
		where += ` AND d.status = ?`
		args = append(args, string(status))
	}
	return db.deliveries(ctx, where+` ORDER BY d.feed_pos DESC LIMIT ?`, append(args, limit)...)
}

func (db *DB) deliveries(ctx context.Context, where string, args ...any) ([]nudge.WebhookDelivery, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+prefixed("d.", deliveryColumns)+` FROM webhook_deliveries d `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []nudge.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return out, nil
}

// prefixed puts prefix before each of the comma-separated columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// ReplayWebhookDelivery makes the lender's delivery pending again, due at
// now and given up at giveUpAt.
func (db *DB) ReplayWebhookDelivery(ctx context.Context, lender, id string, now, giveUpAt time.Time) (nudge.WebhookDelivery, error) {
	res, err := db.exec(ctx, db.write, `UPDATE webhook_deliveries SET status = ?, next_at = ?, give_up_at = ?, delivered_at = NULL
WHERE lender = ? AND id = ?`, string(nudge.WebhookPending), db.tv(now), db.tv(giveUpAt), lender, id)
	if err != nil {
		return nudge.WebhookDelivery{}, fmt.Errorf("replay webhook delivery %s: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil || n == 0 {
		return nudge.WebhookDelivery{}, errors.Join(err, fmt.Errorf("webhook delivery %s: %w", id, nudge.ErrNotFound))
	}
	return db.GetWebhookDelivery(ctx, id)
}
