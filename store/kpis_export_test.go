package store

import "context"

// KPIReadSetting returns the value of the PostgreSQL setting name as the
// KPIs' live read sees it (kpiRead).
func (db *DB) KPIReadSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.kpiRead(ctx, func(q querier) error {
		return db.queryRow(ctx, q, `SELECT current_setting(?)`, name).Scan(&v)
	})
	return v, err
}

// PoolSetting returns the value of the PostgreSQL setting name on the read
// pool, outside any transaction.
func (db *DB) PoolSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.queryRow(ctx, db.read, `SELECT current_setting(?)`, name).Scan(&v)
	return v, err
}

// AfterKPIChunk sets fn to run after each committed chunk of a KPI rollup
// pass.
func (db *DB) AfterKPIChunk(fn func()) { db.afterKPIChunk = fn }
