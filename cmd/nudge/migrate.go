package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge/store"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations",
		Long:  "Apply every pending migration to the configured database (database, NUDGE_DATABASE). Safe to run from several processes at once.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			db, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "migrations applied (%s)\n", db.Backend())
			return nil
		},
	}
}

// openStore opens the configured database and applies pending migrations;
// opts add to the store's options (the read replica of serve's roles).
func openStore(ctx context.Context, cfg Config, opts ...store.Option) (*store.DB, error) {
	if cfg.Database == "" {
		return nil, errors.New("no database configured: set database in the config file or NUDGE_DATABASE (sqlite:///path/nudge.db or postgres://…)")
	}
	db, err := store.Open(ctx, cfg.Database, append([]store.Option{store.WithSecret([]byte(cfg.Secret))}, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// replicaOptions checks database_replica and returns the store option that
// reads dashboards through it; none when it is unset.
func (c Config) replicaOptions() ([]store.Option, error) {
	if c.DatabaseReplica == "" {
		return nil, nil
	}
	const key = "database_replica (NUDGE_DATABASE_REPLICA)"
	if !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return nil, fmt.Errorf("%s: a read replica needs a PostgreSQL database (postgres://…); database is not one", key)
	}
	if err := store.CheckReplicaURL(c.DatabaseReplica); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return []store.Option{store.WithReplica(c.DatabaseReplica)}, nil
}
