package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/payment"
)

func (a *app) paymentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "payments",
		Short: "Manage lenders' payment webhook secrets",
	}
	cmd.AddCommand(a.paymentsSecretCmd())
	return cmd
}

func (a *app) paymentsSecretCmd() *cobra.Command {
	var (
		lender string
		remove bool
	)
	cmd := &cobra.Command{
		Use:   "secret --lender L [--remove]",
		Short: "Make a new payment webhook secret for a lender; it is shown once",
		Long: `Make a new secret for the lender's signed payment webhook (POST /webhooks/payments,
docs/payments.md), replacing the old one at once, and print it once: give it to the
lender's payment portal, which signs each payment confirmation with it. The store keeps
it sealed under a key derived from the deployment's secret. With --remove the lender has
no secret and its webhook requests are refused. A lender admin may do the same through
the API (POST /v1/payments/webhook-secret).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lender == "" {
				return errors.New("--lender is required")
			}
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			sealer, err := payment.NewSealer([]byte(cfg.Secret))
			if err != nil {
				return fmt.Errorf("secret: set secret or secret_file (NUDGE_SECRET, NUDGE_SECRET_FILE): %w", err)
			}
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			sealed, secret := "", ""
			if !remove {
				if secret, err = payment.NewSecret(); err != nil {
					return err
				}
				if sealed, err = sealer.Seal(lender, secret); err != nil {
					return err
				}
			}
			switch err := db.SetPaymentWebhookSecret(ctx, lender, sealed); {
			case errors.Is(err, nudge.ErrNotFound):
				return fmt.Errorf("--lender %q: no such lender (add it under lenders in the configuration and start Nudge once)", lender)
			case err != nil:
				return err
			}
			action := "payment_webhook_secret.rotate"
			if remove {
				action = "payment_webhook_secret.remove"
			}
			if err := db.AppendAudit(ctx, nudge.AuditEntry{Lender: lender, Actor: cliActor, Action: action, At: nudge.SystemClock.Now()}); err != nil {
				return err
			}
			if remove {
				fmt.Fprintf(cmd.OutOrStdout(), "Lender %s has no payment webhook secret now: its webhook requests are refused.\n", lender)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Payment webhook secret of %s (shown once; the old one no longer works):\n%s\n", lender, secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&lender, "lender", "", "the lender")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the secret instead")
	return cmd
}
