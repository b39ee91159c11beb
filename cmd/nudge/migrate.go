package main

import (
	"context"
	"errors"
	"fmt"

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

// openStore opens the configured database and applies pending migrations.
func openStore(ctx context.Context, cfg Config) (*store.DB, error) {
	if cfg.Database == "" {
		return nil, errors.New("no database configured: set database in the config file or NUDGE_DATABASE (sqlite:///path/nudge.db or postgres://…)")
	}
	db, err := store.Open(ctx, cfg.Database, store.WithSecret([]byte(cfg.Secret)))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
