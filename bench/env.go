package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
)

// benchCadence has one SMS step on the due date at 09:00 in the borrower's
// zone: every due account yields exactly one reminder and is then idle.
const benchCadence = `name: bench-reminders
profile: us
applies_to:
  portfolios: [auto]
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "09:00", channel: sms, template: due_sms}
`

// benchStart is the simulated instant a run starts at: a Wednesday at 18:00
// UTC, when it is past 09:00 and inside the calling window in every US zone.
var benchStart = time.Date(2026, 6, 3, 18, 0, 0, 0, time.UTC)

// env is what every measurement shares.
type env struct {
	cfg    Config
	db     *store.DB
	rdb    *redis.Client
	clock  nudge.Clock
	lender string
	pack   *templates.Pack
	reg    *compliance.Registry
	lib    *schedules.Library
	links  *link.Service
	// pg is a second connection to a PostgreSQL database, for ANALYZE.
	pg *sql.DB
}

// openEnv connects to the database (creating it when missing) and to Redis,
// flushes the bench's Redis database, and stores a fresh lender with the
// bench cadence. The lender's id is new on every run, so earlier runs'
// rows never collide with this one's.
func openEnv(ctx context.Context, cfg Config) (_ *env, err error) {
	e := &env{cfg: cfg, pack: templates.Default(), reg: compliance.NewRegistry()}
	defer func() {
		if err != nil {
			e.close(context.WithoutCancel(ctx))
		}
	}()
	if strings.HasPrefix(cfg.Database, "postgres") {
		if err := preparePostgres(ctx, cfg.Database, cfg.ResetDatabase); err != nil {
			return nil, err
		}
	}
	if e.db, err = store.Open(ctx, cfg.Database); err != nil {
		return nil, err
	}
	if e.db.Backend() == store.Postgres {
		u, err := store.PostgresDriverURL(cfg.Database)
		if err != nil {
			return nil, err
		}
		if e.pg, err = sql.Open("pgx", u); err != nil {
			return nil, fmt.Errorf("analyze connection: %w", err)
		}
	}
	if err := e.db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate bench database: %w", err)
	}
	e.rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, DB: cfg.RedisDB, PoolSize: 4 * (cfg.Concurrency*cfg.Servers + cfg.WebhookClients)})
	if err := e.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis at %s: %w", cfg.RedisAddr, err)
	}
	if err := e.flush(ctx); err != nil {
		return nil, err
	}
	// The simulated clock runs at wall speed from benchStart.
	wall := time.Now()
	e.clock = nudge.ClockFunc(func() time.Time { return benchStart.Add(time.Since(wall)) })
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, fmt.Errorf("lender id: %w", err)
	}
	e.lender = fmt.Sprintf("bench-%x", suffix)
	if err := e.db.UpsertLender(ctx, nudge.Lender{ID: e.lender, Name: "Bench Auto Finance", Language: "en",
		Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101", CreatedAt: e.clock.Now()}); err != nil {
		return nil, err
	}
	if _, err := e.db.PutCadenceVersion(ctx, e.lender, "bench-reminders", []byte(benchCadence), e.clock.Now(), true, nil); err != nil {
		return nil, err
	}
	e.lib = schedules.NewLibrary(e.db, e.reg, schedules.WithTemplates(e.pack),
		schedules.WithProfiles(func(name string) bool { _, err := e.reg.Lookup(name); return err == nil }))
	key := make([]byte, link.MinKeyLength)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	if e.links, err = link.New(key, e.db, e.clock); err != nil {
		return nil, err
	}
	return e, nil
}

// flush empties the bench's Redis database (never database 0).
func (e *env) flush(ctx context.Context) error {
	if e.cfg.RedisDB <= 0 {
		return fmt.Errorf("redis db %d: refusing to flush", e.cfg.RedisDB)
	}
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis db %d: %w", e.cfg.RedisDB, err)
	}
	return nil
}

// close flushes the bench's Redis database and closes the connections.
func (e *env) close(ctx context.Context) error {
	var errs []error
	if e.rdb != nil {
		errs = append(errs, e.flush(ctx), e.rdb.Close())
	}
	if e.pg != nil {
		errs = append(errs, e.pg.Close())
	}
	if e.db != nil {
		errs = append(errs, e.db.Close())
	}
	return errors.Join(errs...)
}

// analyze refreshes PostgreSQL's planner statistics after a bulk load, as
// an operator does after an import. Without it, autovacuum lags the load and
// PostgreSQL plans UpsertAccounts' "account_id IN (…)" statements from the
// empty tables' statistics: it scans every contact of the lender for each
// chunk, and loading grows with the square of the portfolio.
func (e *env) analyze(ctx context.Context) error {
	if e.pg == nil {
		return nil
	}
	if _, err := e.pg.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// commitCounts are PostgreSQL's counters of committed work.
type commitCounts struct {
	// transactions are the bench database's committed transactions, read-only
	// ones included (every statement outside a transaction is one).
	transactions int64
	// writes are the transaction ids the server has assigned: one for each
	// transaction that wrote, committed or not, in any database (on a quiet
	// server, the bench's). Reading it assigns none.
	writes int64
	// walSyncs are the server's WAL flushes to disk (what a durable commit
	// waits for; concurrent commits share one).
	walSyncs int64
}

// per returns the counts from c to d, each divided by n.
func (c commitCounts) per(d commitCounts, n float64) (transactions, writes, walSyncs float64) {
	return float64(d.transactions-c.transactions) / n, float64(d.writes-c.writes) / n, float64(d.walSyncs-c.walSyncs) / n
}

// commitCounters reads PostgreSQL's commit counters (zero on SQLite, or when
// the statistics cannot be read). Statistics are flushed to shared memory
// about once a second, so the counters are read after a short wait.
func (e *env) commitCounters(ctx context.Context) (c commitCounts) {
	if e.pg == nil {
		return c
	}
	time.Sleep(1100 * time.Millisecond)
	_ = e.pg.QueryRowContext(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(&c.transactions)
	_ = e.pg.QueryRowContext(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").Scan(&c.writes)
	_ = e.pg.QueryRowContext(ctx, "SELECT wal_sync FROM pg_stat_wal").Scan(&c.walSyncs)
	return c
}

// autoAnalyze does autovacuum's analyzing during a run when the server's
// autovacuum is off (store.AutoAnalyze).
func (e *env) autoAnalyze(ctx context.Context) (stop func()) {
	if e.pg == nil {
		return func() {}
	}
	return store.AutoAnalyze(ctx, e.pg, func(err error) { e.cfg.Logger.Warn("analyze", "err", err) })
}

// databaseName is the database a PostgreSQL URL names, or the file of a
// SQLite URL.
func databaseName(raw string) string {
	if p, err := store.SQLitePath(raw); err == nil {
		return p
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// preparePostgres creates the database the URL names when it is missing
// (and drops it first when reset is set), connecting through the server's
// postgres database.
func preparePostgres(ctx context.Context, raw string, reset bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return errors.New("database URL: missing database name")
	}
	u.Path = "/postgres"
	admin, err := store.PostgresDriverURL(u.String())
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return fmt.Errorf("admin connection: %w", err)
	}
	defer db.Close()
	ident := pgx.Identifier{name}.Sanitize()
	if reset {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
