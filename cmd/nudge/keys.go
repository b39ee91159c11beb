package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// cliActor names the command line in the audit log.
const cliActor = "cli"

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke lenders' API keys",
	}
	cmd.AddCommand(a.keysCreateCmd(), a.keysListCmd(), a.keysRevokeCmd())
	return cmd
}

func (a *app) keysCreateCmd() *cobra.Command {
	var lender, role string
	cmd := &cobra.Command{
		Use:   "create --lender L --role admin|operator|viewer",
		Short: "Create an API key; the token is shown once",
		Long: `Create an API key of a lender with a role: viewer reads; operator also imports
accounts, posts payments, sets and clears holds, adds opt-outs and stores, validates and
previews cadences; admin may do everything, including removing opt-outs and activating
cadences. The token (nudge_<id>_<secret>) is printed once: only its hash is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := nudge.Role(role)
			if !r.Valid() {
				return fmt.Errorf("--role %q: want admin, operator or viewer", role)
			}
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.GetLender(ctx, lender); errors.Is(err, nudge.ErrNotFound) {
				return fmt.Errorf("--lender %q: no such lender (add it under lenders in the configuration and start Nudge once)", lender)
			} else if err != nil {
				return err
			}
			now := nudge.SystemClock.Now()
			token, key, err := web.NewAPIKey(lender, r, now)
			if err != nil {
				return err
			}
			if err := db.CreateAPIKey(ctx, key); err != nil {
				return err
			}
			if err := db.AppendAudit(ctx, nudge.AuditEntry{Lender: lender, Actor: cliActor, Action: "api_key.create",
				Target: key.ID, Detail: fmt.Sprintf(`{"role":%q}`, r), At: now}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created %s key %s for lender %s; the token is shown only now:\n", r, key.ID, lender)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
			return err
		},
	}
	cmd.Flags().StringVar(&lender, "lender", "", "the lender the key belongs to")
	cmd.Flags().StringVar(&role, "role", "", "admin, operator or viewer")
	_ = cmd.MarkFlagRequired("lender")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (a *app) keysListCmd() *cobra.Command {
	var lender string
	cmd := &cobra.Command{
		Use:   "list --lender L",
		Short: "List a lender's API keys (ids and roles; secrets are never stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			keys, err := db.ListAPIKeys(ctx, lender)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tCREATED\tREVOKED")
			for _, k := range keys {
				revoked := "-"
				if !k.RevokedAt.IsZero() {
					revoked = k.RevokedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Role, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&lender, "lender", "", "the lender whose keys to list")
	_ = cmd.MarkFlagRequired("lender")
	return cmd
}

func (a *app) keysRevokeCmd() *cobra.Command {
	var lender string
	cmd := &cobra.Command{
		Use:   "revoke ID --lender L",
		Short: "Revoke an API key; requests with it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			now := nudge.SystemClock.Now()
			if err := db.RevokeAPIKey(ctx, lender, args[0], now); err != nil {
				return err
			}
			if err := db.AppendAudit(ctx, nudge.AuditEntry{Lender: lender, Actor: cliActor, Action: "api_key.revoke",
				Target: args[0], At: now}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked key %s of lender %s\n", args[0], lender)
			return err
		},
	}
	cmd.Flags().StringVar(&lender, "lender", "", "the lender the key belongs to")
	_ = cmd.MarkFlagRequired("lender")
	return cmd
}
