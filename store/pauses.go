package store

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge"
)

// SetPause records p; it reports false when a pause of the same lender,
// scope and target exists already (that one, with its reason, stays).
func (db *DB) SetPause(ctx context.Context, p nudge.Pause) (bool, error) {
	switch {
	case p.Lender == "":
		return false, fmt.Errorf("set pause: lender is required")
	case p.Scope != nudge.PauseLender && p.Scope != nudge.PauseCadence && p.Scope != nudge.PauseChannel:
		return false, fmt.Errorf("set pause for %s: unknown scope %q (want lender, cadence or channel)", p.Lender, p.Scope)
	case p.Scope != nudge.PauseLender && p.Target == "":
		return false, fmt.Errorf("set pause for %s: a %s pause needs a target", p.Lender, p.Scope)
	case p.CreatedAt.IsZero():
		return false, fmt.Errorf("set pause for %s: created_at is required", p.Lender)
	}
	res, err := db.exec(ctx, db.write, `INSERT INTO pauses (lender, scope, target, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (lender, scope, target) DO NOTHING`, p.Lender, string(p.Scope), p.Target, p.Reason, p.Actor, db.tv(p.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("set %s pause %q for %s: %w", p.Scope, p.Target, p.Lender, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, fmt.Errorf("set %s pause %q for %s: %w", p.Scope, p.Target, p.Lender, err)
	}
	return n > 0, nil
}

// ClearPause lifts the lender's pause of scope and target; it reports
// whether one existed.
func (db *DB) ClearPause(ctx context.Context, lender string, scope nudge.PauseScope, target string) (bool, error) {
	res, err := db.exec(ctx, db.write, `DELETE FROM pauses WHERE lender = ? AND scope = ? AND target = ?`, lender, string(scope), target)
	if err != nil {
		return false, fmt.Errorf("clear %s pause %q for %s: %w", scope, target, lender, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, fmt.Errorf("clear %s pause %q for %s: %w", scope, target, lender, err)
	}
	return n > 0, nil
}

// pauseCols are the columns scanPause reads.
const pauseCols = `lender, scope, target, reason, actor, created_at`

// lenderPausesQuery reads one lender's pauses, oldest first.
const lenderPausesQuery = `SELECT ` + pauseCols + ` FROM pauses WHERE lender = ? ORDER BY created_at, scope, target`

func scanPause(s interface{ Scan(...any) error }) (nudge.Pause, error) {
	var p nudge.Pause
	var scope string
	if err := s.Scan(&p.Lender, &scope, &p.Target, &p.Reason, &p.Actor, timeCol{&p.CreatedAt}); err != nil {
		return nudge.Pause{}, err
	}
	p.Scope = nudge.PauseScope(scope)
	return p, nil
}

// ListPauses returns the lender's pauses, oldest first; an empty lender
// lists every lender's.
func (db *DB) ListPauses(ctx context.Context, lender string) ([]nudge.Pause, error) {
	q := `SELECT ` + pauseCols + ` FROM pauses ORDER BY created_at, lender, scope, target`
	var args []any
	if lender != "" {
		q, args = lenderPausesQuery, []any{lender}
	}
	rows, err := db.query(ctx, db.read, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	defer rows.Close()
	var out []nudge.Pause
	for rows.Next() {
		p, err := scanPause(rows)
		if err != nil {
			return nil, fmt.Errorf("list pauses: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	return out, nil
}
