package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// postgresURL splits a PostgreSQL URL into the URL the pgx driver takes and
// the store's own pool_max_conns (DefaultPostgresMaxConns when absent).
func postgresURL(raw string) (driverURL string, maxConns int, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, fmt.Errorf("parse postgres URL: %w", err)
	}
	maxConns = DefaultPostgresMaxConns
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", 0, fmt.Errorf("postgres URL: pool_max_conns=%q is not a positive integer", v)
		}
		maxConns = n
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	return u.String(), maxConns, nil
}

// PostgresDriverURL is a store PostgreSQL URL without the store's own
// parameters (pool_max_conns), for opening the same database with
// database/sql's pgx driver directly, as the bench and the drills do for
// their administrative connections.
func PostgresDriverURL(raw string) (string, error) {
	u, _, err := postgresURL(raw)
	return u, err
}

// CreateDatabase creates a database named prefix plus random hex on the
// PostgreSQL server of the admin URL, and returns its URL (the admin URL's
// parameters kept) and a function that drops it, closing any connection
// still open to it. Tests and drills use it for a database of their own.
func CreateDatabase(ctx context.Context, admin, prefix string) (dbURL string, drop func(context.Context) error, err error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("parse postgres URL: %w", err)
	}
	driverURL, err := PostgresDriverURL(admin)
	if err != nil {
		return "", nil, err
	}
	conn, err := sql.Open("pgx", driverURL)
	if err != nil {
		return "", nil, fmt.Errorf("database: %w", err)
	}
	defer conn.Close()
	if err := conn.PingContext(ctx); err != nil {
		return "", nil, fmt.Errorf("database %s: %w", redactURL(admin), err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	name := prefix + hex.EncodeToString(b[:])
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop = func(ctx context.Context) error {
		c, err := sql.Open("pgx", driverURL)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
