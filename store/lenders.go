package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

const lenderCols = "id, name, language, timezone, profile, help_phone, agent_phone, voicemail_business_name, voicemail_caller_name, " +
	"payment_url, plan_max_instalments, plan_min_instalment, plan_interval_days, plan_max_days, created_at"

func scanLender(s interface{ Scan(...any) error }) (nudge.Lender, error) {
	var l nudge.Lender
	err := s.Scan(&l.ID, &l.Name, &l.Language, &l.Timezone, &l.Profile, &l.HelpPhone, &l.AgentPhone, &l.VoicemailBusinessName, &l.VoicemailCallerName,
		&l.PaymentURL, &l.Plans.MaxInstalments, &l.Plans.MinInstalment, &l.Plans.IntervalDays, &l.Plans.MaxDays, timeCol{&l.CreatedAt})
	return l, err
}

// UpsertLender creates the lender or updates its name, language, time zone,
// profile, phone numbers, voicemail names, payment link and plan rules; the
// creation time of an existing lender is kept, and so is its payment
// webhook secret (SetPaymentWebhookSecret sets that).
func (db *DB) UpsertLender(ctx context.Context, l nudge.Lender) error {
	if l.ID == "" {
		return errors.New("upsert lender: id is required")
	}
	_, err := db.exec(ctx, db.write, `INSERT INTO lenders (`+lenderCols+`) VALUES (`+placeholders(15)+`)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, language = excluded.language,
    timezone = excluded.timezone, profile = excluded.profile,
    help_phone = excluded.help_phone, agent_phone = excluded.agent_phone,
    voicemail_business_name = excluded.voicemail_business_name, voicemail_caller_name = excluded.voicemail_caller_name,
    payment_url = excluded.payment_url, plan_max_instalments = excluded.plan_max_instalments,
    plan_min_instalment = excluded.plan_min_instalment, plan_interval_days = excluded.plan_interval_days,
    plan_max_days = excluded.plan_max_days`,
		l.ID, l.Name, l.Language, l.Timezone, l.Profile, l.HelpPhone, l.AgentPhone, l.VoicemailBusinessName, l.VoicemailCallerName,
		l.PaymentURL, l.Plans.MaxInstalments, l.Plans.MinInstalment, l.Plans.IntervalDays, l.Plans.MaxDays,
		db.tv(l.CreatedAt))
	if err != nil {
		return fmt.Errorf("upsert lender %s: %w", l.ID, err)
	}
	return nil
}

// GetLender returns the lender with id, or nudge.ErrNotFound.
func (db *DB) GetLender(ctx context.Context, id string) (nudge.Lender, error) {
	l, err := scanLender(db.queryRow(ctx, db.read, `SELECT `+lenderCols+` FROM lenders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.Lender{}, fmt.Errorf("lender %s: %w", id, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.Lender{}, fmt.Errorf("get lender %s: %w", id, err)
	}
	return l, nil
}

// ListLenders returns every lender ordered by id.
func (db *DB) ListLenders(ctx context.Context) ([]nudge.Lender, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+lenderCols+` FROM lenders ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list lenders: %w", err)
	}
	defer rows.Close()
	var out []nudge.Lender
	for rows.Next() {
		l, err := scanLender(rows)
		if err != nil {
			return nil, fmt.Errorf("list lenders: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lenders: %w", err)
	}
	return out, nil
}

const apiKeyCols = "id, lender, role, hash, created_at, revoked_at"

// CreateAPIKey stores a new API key. A key whose id or hash already exists
// is refused with nudge.ErrConflict.
func (db *DB) CreateAPIKey(ctx context.Context, k nudge.APIKey) error {
	switch {
	case k.ID == "":
		return errors.New("create api key: id is required")
	case k.Hash == "":
		return fmt.Errorf("create api key %s: hash is required", k.ID)
	case k.Lender == "":
		return fmt.Errorf("create api key %s: lender is required", k.ID)
	case !k.Role.Valid():
		return fmt.Errorf("create api key %s: unknown role %q", k.ID, k.Role)
	}
	res, err := db.exec(ctx, db.write, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
		k.ID, k.Lender, string(k.Role), k.Hash, db.tv(k.CreatedAt), db.tv(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("create api key %s: id or hash exists: %w", k.ID, nudge.ErrConflict)
	}
	return nil
}

// APIKeyByHash returns the key with the given secret hash, revoked or not,
// or nudge.ErrNotFound.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (nudge.APIKey, error) {
	var (
		k    nudge.APIKey
		role string
	)
	err := db.queryRow(ctx, db.read, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash).
		Scan(&k.ID, &k.Lender, &role, &k.Hash, timeCol{&k.CreatedAt}, timeCol{&k.RevokedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.APIKey{}, fmt.Errorf("api key: %w", nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.APIKey{}, fmt.Errorf("api key by hash: %w", err)
	}
	k.Role = nudge.Role(role)
	return k, nil
}

// RevokeAPIKey marks the lender's key id revoked at now. It returns
// nudge.ErrNotFound when the lender has no such key; revoking twice keeps
// the first time.
func (db *DB) RevokeAPIKey(ctx context.Context, lender, id string, now time.Time) error {
	res, err := db.exec(ctx, db.write, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE lender = ? AND id = ?`,
		db.tv(now), lender, id)
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("api key %s of lender %s: %w", id, lender, nudge.ErrNotFound)
	}
	return nil
}
