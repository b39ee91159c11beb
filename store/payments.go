package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge"
)

const paymentCols = "lender, id, account_id, amount, currency, paid_at, source, received_at"

func scanPayment(s interface{ Scan(...any) error }) (nudge.Payment, error) {
	var p nudge.Payment
	err := s.Scan(&p.Lender, &p.ID, &p.AccountID, &p.Amount, &p.Currency, timeCol{&p.PaidAt}, &p.Source, timeCol{&p.ReceivedAt})
	return p, err
}

// RecordPayment stores p once per lender and payment id and reports whether
// it was new; a payment recorded before is returned as it was first
// recorded, whatever p says. events (the payment's) are appended in the
// same transaction when the payment is new.
func (db *DB) RecordPayment(ctx context.Context, p nudge.Payment, events ...nudge.Event) (nudge.Payment, bool, error) {
	switch {
	case p.Lender == "" || p.ID == "" || p.AccountID == "":
		return nudge.Payment{}, false, errors.New("record payment: lender, id and account are required")
	case p.Amount == "":
		return nudge.Payment{}, false, fmt.Errorf("record payment %s: amount is required", p.ID)
	case p.ReceivedAt.IsZero():
		return nudge.Payment{}, false, fmt.Errorf("record payment %s: received_at is required", p.ID)
	}
	var (
		n   int64
		got nudge.Payment
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `INSERT INTO payments (`+paymentCols+`) VALUES (`+placeholders(8)+`) ON CONFLICT DO NOTHING`,
			p.Lender, p.ID, p.AccountID, p.Amount, p.Currency, db.tv(p.PaidAt), p.Source, db.tv(p.ReceivedAt))
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil {
			return err
		}
		if n > 0 {
			if err := db.appendEvents(ctx, tx, events); err != nil {
				return err
			}
		}
		got, err = scanPayment(db.queryRow(ctx, tx, `SELECT `+paymentCols+` FROM payments WHERE lender = ? AND id = ?`, p.Lender, p.ID))
		return err
	})
	if err != nil {
		return nudge.Payment{}, false, fmt.Errorf("record payment %s: %w", p.ID, err)
	}
	return got, n > 0, nil
}

// GetPayment returns the lender's payment with id, or nudge.ErrNotFound.
func (db *DB) GetPayment(ctx context.Context, lender, id string) (nudge.Payment, error) {
	p, err := scanPayment(db.queryRow(ctx, db.read, `SELECT `+paymentCols+` FROM payments WHERE lender = ? AND id = ?`, lender, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Payment{}, fmt.Errorf("payment %s of %s: %w", id, lender, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Payment{}, fmt.Errorf("get payment %s of %s: %w", id, lender, err)
	}
	return p, nil
}

// ListPayments returns the account's payments in order of receipt.
func (db *DB) ListPayments(ctx context.Context, lender, accountID string) ([]nudge.Payment, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+paymentCols+` FROM payments WHERE lender = ? AND account_id = ?
ORDER BY received_at, id`, lender, accountID)
	if err != nil {
		return nil, fmt.Errorf("list payments of %s/%s: %w", lender, accountID, err)
	}
	defer rows.Close()
	var out []nudge.Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("list payments of %s/%s: %w", lender, accountID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list payments of %s/%s: %w", lender, accountID, err)
	}
	return out, nil
}

// InsertPlan stores the instalments of one payment plan in one
// transaction: every instalment needs the same non-empty PlanID, lender
// and account, and a date. A plan whose id exists is refused with
// nudge.ErrConflict and nothing is written. events (the plan's) are
// appended in the same transaction.
func (db *DB) InsertPlan(ctx context.Context, instalments []nudge.Promise, events ...nudge.Event) error {
	if len(instalments) == 0 {
		return errors.New("insert plan: no instalments")
	}
	first := instalments[0]
	for i, p := range instalments {
		switch {
		case p.PlanID == "":
			return fmt.Errorf("insert plan: instalment %d has no plan id", i+1)
		case p.PlanID != first.PlanID || p.Lender != first.Lender || p.AccountID != first.AccountID:
			return fmt.Errorf("insert plan %s: instalment %d belongs to another plan or account", first.PlanID, i+1)
		case p.Due.IsZero():
			return fmt.Errorf("insert plan %s: instalment %d has no date", first.PlanID, i+1)
		}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var exists int
		err := db.queryRow(ctx, tx, `SELECT 1 FROM promises WHERE lender = ? AND account_id = ? AND plan_id = ? LIMIT 1`,
			first.Lender, first.AccountID, first.PlanID).Scan(&exists)
		switch {
		case err == nil:
			return fmt.Errorf("insert plan %s: %w", first.PlanID, nudge.ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("insert plan %s: %w", first.PlanID, err)
		}
		// A plan inserted at the same time under the same id collides on
		// the instalments' ids (ErrConflict), rolling this one back.
		for _, p := range instalments {
			if err := db.insertPromise(ctx, tx, p); err != nil {
				return fmt.Errorf("insert plan %s: %w", first.PlanID, err)
			}
		}
		if err := db.appendEvents(ctx, tx, events); err != nil {
			return fmt.Errorf("insert plan %s: %w", first.PlanID, err)
		}
		return nil
	})
}

// SetPaymentWebhookSecret replaces the lender's sealed payment webhook
// secret; "" removes it. An unknown lender is nudge.ErrNotFound.
func (db *DB) SetPaymentWebhookSecret(ctx context.Context, lender, sealed string) error {
	res, err := db.exec(ctx, db.write, `UPDATE lenders SET payment_webhook_secret = ? WHERE id = ?`, sealed, lender)
	if err != nil {
		return fmt.Errorf("set payment webhook secret of %s: %w", lender, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("set payment webhook secret of %s: %w", lender, err)
	}
	if n == 0 {
		return fmt.Errorf("lender %s: %w", lender, nudge.ErrNotFound)
	}
	return nil
}

// PaymentWebhookSecret returns the lender's sealed payment webhook secret,
// "" when it has none. An unknown lender is nudge.ErrNotFound.
func (db *DB) PaymentWebhookSecret(ctx context.Context, lender string) (string, error) {
	var sealed string
	err := db.queryRow(ctx, db.read, `SELECT payment_webhook_secret FROM lenders WHERE id = ?`, lender).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("lender %s: %w", lender, nudge.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("payment webhook secret of %s: %w", lender, err)
	}
	return sealed, nil
}
