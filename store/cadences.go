package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
)

const cadenceCols = `lender, name, version, source, active, created_at`

func scanCadence(s interface{ Scan(...any) error }) (nudge.CadenceVersion, error) {
	var c nudge.CadenceVersion
	err := s.Scan(&c.Lender, &c.Name, &c.Version, &c.Source, &c.Active, timeCol{&c.CreatedAt})
	return c, err
}

// PutCadence stores source as the next version of the lender's cadence name
// and returns its number (1, 2, …). The new version is not active until
// ActivateCadence.
func (db *DB) PutCadence(ctx context.Context, lender, name string, source []byte, now time.Time) (int, error) {
	var version int
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		version, err = db.putCadence(ctx, tx, lender, name, source, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("put cadence %s/%s: %w", lender, name, err)
	}
	return version, nil
}

// ActivateCadence makes version the only active version of the lender's
// cadence name. It returns nudge.ErrNotFound when the version does not exist.
func (db *DB) ActivateCadence(ctx context.Context, lender, name string, version int) error {
	if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.activateCadence(ctx, tx, lender, name, version) }); err != nil {
		return fmt.Errorf("activate cadence %s/%s: %w", lender, name, err)
	}
	return nil
}

// PutCadenceVersion stores source as the next version of the lender's
// cadence name and, in the same transaction, makes it the only active
// version when activate is set and appends the audit entry audit returns
// for the new version when audit is not nil: a failure of any part (an
// audit entry without an action or a time, say) leaves the cadence's
// versions and the audit log as they were. It returns the new version's
// number.
func (db *DB) PutCadenceVersion(ctx context.Context, lender, name string, source []byte, now time.Time, activate bool,
	audit func(version int) nudge.AuditEntry) (int, error) {
	var version int
	err := db.inTx(ctx, func(tx *sql.Tx) (err error) {
		if version, err = db.putCadence(ctx, tx, lender, name, source, now); err != nil {
			return err
		}
		if activate {
			if err := db.activateCadence(ctx, tx, lender, name, version); err != nil {
				return err
			}
		}
		if audit == nil {
			return nil
		}
		return db.insertAudit(ctx, tx, audit(version))
	})
	if err != nil {
		return 0, fmt.Errorf("put cadence %s/%s: %w", lender, name, err)
	}
	return version, nil
}

// ActivateCadenceAudited is ActivateCadence with the audit entry appended
// in the same transaction: both happen or neither.
func (db *DB) ActivateCadenceAudited(ctx context.Context, lender, name string, version int, audit nudge.AuditEntry) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.activateCadence(ctx, tx, lender, name, version); err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, audit)
	})
	if err != nil {
		return fmt.Errorf("activate cadence %s/%s: %w", lender, name, err)
	}
	return nil
}

// putCadence inserts the next version of the lender's cadence name in tx.
func (db *DB) putCadence(ctx context.Context, tx *sql.Tx, lender, name string, source []byte, now time.Time) (int, error) {
	if lender == "" || name == "" {
		return 0, errors.New("lender and name are required")
	}
	if source == nil {
		source = []byte{}
	}
	if err := db.lock(ctx, tx, "cadence/"+lender+"/"+name); err != nil {
		return 0, err
	}
	var version int
	if err := db.queryRow(ctx, tx, `SELECT COALESCE(MAX(version), 0) + 1 FROM cadence_versions WHERE lender = ? AND name = ?`,
		lender, name).Scan(&version); err != nil {
		return 0, err
	}
	_, err := db.exec(ctx, tx, `INSERT INTO cadence_versions (`+cadenceCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		lender, name, version, source, false, db.tv(now))
	return version, err
}

// activateCadence makes version the only active version of the lender's
// cadence name in tx.
func (db *DB) activateCadence(ctx context.Context, tx *sql.Tx, lender, name string, version int) error {
	if err := db.lock(ctx, tx, "cadence/"+lender+"/"+name); err != nil {
		return err
	}
	var n int
	if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM cadence_versions WHERE lender = ? AND name = ? AND version = ?`,
		lender, name, version).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("version %d: %w", version, nudge.ErrNotFound)
	}
	if _, err := db.exec(ctx, tx, `UPDATE cadence_versions SET active = ? WHERE lender = ? AND name = ? AND active = ? AND version <> ?`,
		false, lender, name, true, version); err != nil {
		return err
	}
	_, err := db.exec(ctx, tx, `UPDATE cadence_versions SET active = ? WHERE lender = ? AND name = ? AND version = ?`,
		true, lender, name, version)
	return err
}

// GetCadence returns one version of the lender's cadence name; version 0
// means the active one. It returns nudge.ErrNotFound when there is none.
func (db *DB) GetCadence(ctx context.Context, lender, name string, version int) (nudge.CadenceVersion, error) {
	q := `SELECT ` + cadenceCols + ` FROM cadence_versions WHERE lender = ? AND name = ? AND version = ?`
	args := []any{lender, name, version}
	if version == 0 {
		q = `SELECT ` + cadenceCols + ` FROM cadence_versions WHERE lender = ? AND name = ? AND active = ?`
		args = []any{lender, name, true}
	}
	c, err := scanCadence(db.queryRow(ctx, db.read, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nudge.CadenceVersion{}, fmt.Errorf("cadence %s/%s version %d: %w", lender, name, version, nudge.ErrNotFound)
	}
	if err != nil {
		return nudge.CadenceVersion{}, fmt.Errorf("get cadence %s/%s version %d: %w", lender, name, version, err)
	}
	return c, nil
}

// ListCadences returns every version of every cadence of the lender, by
// name and version.
func (db *DB) ListCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error) {
	return db.listCadences(ctx, "list cadences", `SELECT `+cadenceCols+` FROM cadence_versions
WHERE lender = ? ORDER BY name, version`, lender)
}

// ActiveCadences returns the active version of every cadence of the lender,
// by name.
func (db *DB) ActiveCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error) {
	return db.listCadences(ctx, "active cadences", `SELECT `+cadenceCols+` FROM cadence_versions
WHERE lender = ? AND active = ? ORDER BY name`, lender, true)
}

func (db *DB) listCadences(ctx context.Context, what, query string, args ...any) ([]nudge.CadenceVersion, error) {
	rows, err := db.query(ctx, db.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []nudge.CadenceVersion
	for rows.Next() {
		c, err := scanCadence(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
