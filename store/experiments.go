package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/nudgehq/nudge"
)

// experimentArmCols are experiment_arms' columns.
const experimentArmCols = "lender, experiment, account_id, cadence, arm, assigned_at"

// AssignArms returns the recorded arm of each assignment's account in its
// experiment. With record, the assignments not yet recorded are recorded
// first (as given) in one transaction; an account already recorded keeps
// its arm whatever is given, so the assignment never changes. Without
// record, accounts never assigned are left out of the result.
func (db *DB) AssignArms(ctx context.Context, as []nudge.ArmAssignment, record bool) ([]nudge.ArmAssignment, error) {
	if len(as) == 0 {
		return nil, nil
	}
	for i, a := range as {
		if a.Lender == "" || a.AccountID == "" || a.Experiment == "" || (record && (a.Arm == "" || a.Cadence == "" || a.AssignedAt.IsZero())) {
			return nil, fmt.Errorf("assign arms: assignment %d (%s/%s in %q): lender, account and experiment are required, and arm, cadence and time to record it",
				i, a.Lender, a.AccountID, a.Experiment)
		}
	}
	var out []nudge.ArmAssignment
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if record {
			err := chunks(len(as), 6, func(start, end int) error {
				args := make([]any, 0, (end-start)*6)
				for _, a := range as[start:end] {
					args = append(args, a.Lender, a.Experiment, a.AccountID, a.Cadence, a.Arm, db.tv(truncUTC(a.AssignedAt)))
				}
				_, err := db.exec(ctx, tx, `INSERT INTO experiment_arms (`+experimentArmCols+`) VALUES `+valuesRows(end-start, 6)+` ON CONFLICT DO NOTHING`, args...)
				return err
			})
			if err != nil {
				return fmt.Errorf("record: %w", err)
			}
		}
		// Read back per lender and experiment, a chunk of accounts at a time.
		type group struct{ lender, experiment string }
		byGroup := map[group][]string{}
		var order []group
		for _, a := range as {
			g := group{a.Lender, a.Experiment}
			if _, ok := byGroup[g]; !ok {
				order = append(order, g)
			}
			byGroup[g] = append(byGroup[g], a.AccountID)
		}
		for _, g := range order {
			ids := byGroup[g]
			err := chunks(len(ids), 1, func(start, end int) error {
				args := []any{g.lender, g.experiment}
				for _, id := range ids[start:end] {
					args = append(args, id)
				}
				rows, err := db.query(ctx, tx, `SELECT `+experimentArmCols+` FROM experiment_arms WHERE lender = ? AND experiment = ? AND account_id IN (`+
					placeholders(end-start)+`)`, args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var a nudge.ArmAssignment
					if err := rows.Scan(&a.Lender, &a.Experiment, &a.AccountID, &a.Cadence, &a.Arm, timeCol{&a.AssignedAt}); err != nil {
						return err
					}
					out = append(out, a)
				}
				return rows.Err()
			})
			if err != nil {
				return fmt.Errorf("read %s/%s: %w", g.lender, g.experiment, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assign arms: %w", err)
	}
	return out, nil
}

// ArmCounts counts the lender's accounts assigned to each arm of the
// experiment.
func (db *DB) ArmCounts(ctx context.Context, lender, experiment string) (map[string]int64, error) {
	out := map[string]int64{}
	err := db.each(ctx, "arm counts of "+lender+"/"+experiment,
		`SELECT arm, COUNT(*) FROM experiment_arms WHERE lender = ? AND experiment = ? GROUP BY arm`, []any{lender, experiment},
		func(scan func(...any) error) error {
			var arm string
			var n int64
			if err := scan(&arm, &n); err != nil {
				return err
			}
			out[arm] = n
			return nil
		})
	return out, err
}
