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
	var (
		lender, role string
		platform     bool
	)
	cmd := &cobra.Command{
		Use:   "create (--lender L | --platform) --role admin|operator|viewer",
		Short: "Create an API key; the token is shown once",
		Long: `Create an API key of a lender with a role: viewer reads; operator also imports
accounts, posts payments, sets and clears holds, adds opt-outs, retries and cancels
reminders, pauses sending and stores, validates and previews cadences; admin may do
everything, including removing opt-outs and activating cadences. A lender's keys see and
touch that lender's data only.

With --platform the key belongs to the operators who run Nudge for every lender (admin or
viewer): it logs in to the operator console for any lender and is the only kind of key
the Asynq queue monitor (/ops/queues/) accepts; it has no access to the lender API.
The token (nudge_<id>_<secret>) is printed once: only its hash is stored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := nudge.Role(role)
			if !r.Valid() {
				return fmt.Errorf("--role %q: want admin, operator or viewer", role)
			}
			lender, err := keyOwner(lender, platform)
			if err != nil {
				return err
			}
			if platform && r == nudge.RoleOperator {
				return errors.New("--role operator: a platform key is admin or viewer")
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
			if !platform {
				if _, err := db.GetLender(ctx, lender); errors.Is(err, nudge.ErrNotFound) {
					return fmt.Errorf("--lender %q: no such lender (add it under lenders in the configuration and start Nudge once)", lender)
				} else if err != nil {
					return err
				}
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
			owner := "lender " + lender
			if platform {
				owner = "the platform"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created %s key %s for %s; the token is shown only now:\n", r, key.ID, owner)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
			return err
		},
	}
	cmd.Flags().StringVar(&lender, "lender", "", "the lender the key belongs to")
	cmd.Flags().BoolVar(&platform, "platform", false, "a platform operator's key (every lender's console, the queue monitor)")
	cmd.Flags().StringVar(&role, "role", "", "admin, operator or viewer")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (a *app) keysListCmd() *cobra.Command {
	var (
		lender   string
		platform bool
	)
	cmd := &cobra.Command{
		Use:   "list (--lender L | --platform)",
		Short: "List a lender's (or the platform's) API keys (ids and roles; secrets are never stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lender, err := keyOwner(lender, platform)
			if err != nil {
				return err
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
	cmd.Flags().BoolVar(&platform, "platform", false, "list the platform's keys")
	return cmd
}

func (a *app) keysRevokeCmd() *cobra.Command {
	var (
		lender   string
		platform bool
	)
	cmd := &cobra.Command{
		Use:   "revoke ID (--lender L | --platform)",
		Short: "Revoke an API key; requests with it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lender, err := keyOwner(lender, platform)
			if err != nil {
				return err
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
	cmd.Flags().BoolVar(&platform, "platform", false, "revoke a platform key")
	return cmd
}

// keyOwner returns the lender a key command works on: --lender, or the
// platform with --platform; exactly one of them.
func keyOwner(lender string, platform bool) (string, error) {
	switch {
	case platform && lender != "":
		return "", errors.New("--lender and --platform: give one of them")
	case platform:
		return nudge.PlatformLender, nil
	case lender == "":
		return "", errors.New("--lender L or --platform is required")
	}
	return lender, nil
}
