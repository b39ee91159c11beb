package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge/dispatcher"
)

func (a *app) reconcileCmd() *cobra.Command {
	var (
		dryRun bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Resolve reminders whose provider answer was lost",
		Long: `Resolve every reminder left unknown (the provider may have accepted it and its answer was
lost): from the provider's records (Twilio's message and call lists, matched by recipient,
time and text), from a late callback, or, when the provider has no record once the settle
time (reconcile.settle) has passed, by releasing it for one more send through the whole
send-time re-check. Emails follow each lender's email_on_unknown. Every resolution is an
event on the account's timeline. The scheduler role runs this every reconcile.every;
--dry-run only says what it would do.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			rt, err := a.newRuntime(cmd.Context(), cfg, runtimeOptions{})
			if err != nil {
				return err
			}
			defer rt.Close()
			rc, err := rt.reconciler()
			if err != nil {
				return err
			}
			rep, err := rc.Run(cmd.Context(), dryRun)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeReconcile(cmd.OutOrStdout(), rep)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be done, change nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// writeReconcile prints a reconcile report as a table.
func writeReconcile(w io.Writer, rep dispatcher.ReconcileReport) error {
	verb := "resolved"
	if rep.DryRun {
		verb = "would resolve (dry run)"
	}
	outcomes := make([]string, 0, len(rep.Counts))
	for o := range rep.Counts {
		outcomes = append(outcomes, o)
	}
	sort.Strings(outcomes)
	fmt.Fprintf(w, "%d unknown reminders checked; %s %d", rep.Checked, verb, len(rep.Resolutions))
	for _, o := range outcomes {
		fmt.Fprintf(w, ", %s %d", o, rep.Counts[o])
	}
	fmt.Fprintln(w)
	if len(rep.Resolutions) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "reminder\tlender\tchannel\toutcome\tprovider id\tevidence")
		for _, r := range rep.Resolutions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ReminderID, r.Lender, r.Channel, r.Outcome, r.ProviderID, r.Evidence)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil
}
