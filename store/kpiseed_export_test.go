package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// SeedTablesCatalog returns the definitions of the indexes and constraints
// of the tables SeedKPIHistory writes ("name: definition", sorted): from
// pg_indexes and pg_constraint on PostgreSQL, sqlite_master on SQLite.
func (db *DB) SeedTablesCatalog(ctx context.Context) ([]string, error) {
	q := `SELECT name || ': ' || COALESCE(sql, '(implicit)') FROM sqlite_master
WHERE type = 'index' AND tbl_name IN (` + placeholders(len(kpiSeedTables)) + `)`
	args := kpiSeedTableArgs()
	if db.backend == Postgres {
		q = `SELECT indexname || ': ' || indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = ANY(CAST(? AS text[]))
UNION ALL
SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN (SELECT to_regclass(t) FROM unnest(CAST(? AS text[])) AS t)`
		args = []any{kpiSeedTables, kpiSeedTables}
	}
	rows, err := db.query(ctx, db.read, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out, rows.Err()
}

// SeedTablesRows returns how many rows each table SeedKPIHistory writes
// holds ("table: n").
func (db *DB) SeedTablesRows(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, t := range kpiSeedTables {
		var n int64
		if err := db.queryRow(ctx, db.read, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return "", fmt.Errorf("count %s: %w", t, err)
		}
		fmt.Fprintf(&b, "%s: %d\n", t, n)
	}
	return b.String(), nil
}
