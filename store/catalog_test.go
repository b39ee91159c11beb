package store

import (
	"context"
	"fmt"
	"strings"
)

// TextColumns implements storetest.Catalog: every column ("table.column")
// of every table whose type holds text or bytes, read from the database's
// catalogue.
func (db *DB) TextColumns(ctx context.Context) ([]string, error) {
	q := `SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	if db.backend == Postgres {
		q = `SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	}
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		if holdsText(db.backend, typ) {
			out = append(out, table+"."+column)
		}
	}
	return out, rows.Err()
}

// holdsText reports whether a column of declared type typ can hold text:
// SQLite's text and blob affinities (and untyped columns), PostgreSQL's
// character, text, JSON, bytes, arrays and user-defined types.
func holdsText(b Backend, typ string) bool {
	t := strings.ToUpper(typ)
	if b == Postgres {
		switch t {
		case "TEXT", "CHARACTER VARYING", "CHARACTER", "JSON", "JSONB", "BYTEA", "ARRAY", "USER-DEFINED", "XML":
			return true
		}
		return false
	}
	return t == "" || strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT") || strings.Contains(t, "BLOB")
}

// ColumnText implements storetest.Catalog: every non-null value of the
// column ("table.column"), as text.
func (db *DB) ColumnText(ctx context.Context, column string) ([]string, error) {
	table, name, ok := strings.Cut(column, ".")
	if !ok {
		return nil, fmt.Errorf("column %q: want table.column", column)
	}
	col := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	expr := "CAST(" + col + " AS TEXT)"
	if db.backend == Postgres {
		expr = col + "::text"
		var typ string
		if err := db.read.QueryRowContext(ctx, `SELECT data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, table, name).Scan(&typ); err != nil {
			return nil, fmt.Errorf("type of %s: %w", column, err)
		}
		if typ == "bytea" {
			expr = "convert_from(" + col + ", 'UTF8')"
		}
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+expr+` FROM "`+strings.ReplaceAll(table, `"`, `""`)+`" WHERE `+col+" IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", column, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("read %s: %w", column, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
