// Command nudge is the Nudge reminder dispatcher: one binary with the roles
// api, scheduler and worker, the all-in-one serve and demo, and the tools
// lenders and operators use (cadence validate/schema/preview, explain,
// migrate).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	_ "time/tzdata" // time zones must work on machines without a zoneinfo database
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "nudge:", err)
		os.Exit(1)
	}
}

// app carries what every subcommand shares.
type app struct {
	configPath string
	stdout     io.Writer
	stderr     io.Writer
}

func (a *app) config() (Config, error) {
	return LoadConfig(a.configPath, os.LookupEnv)
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "nudge",
		Short:         "Nudge: omnichannel reminder dispatcher for auto-loan collections",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "YAML configuration file (NUDGE_* environment variables override it)")
	root.AddCommand(
		a.versionCmd(),
		a.migrateCmd(),
		a.reconcileCmd(),
		a.cadenceCmd(),
		a.explainCmd(),
		a.serveCmd(),
		a.apiCmd(),
		a.schedulerCmd(),
		a.workerCmd(),
		a.demoCmd(),
		a.keysCmd(),
		a.dkimCmd(),
		a.paymentsCmd(),
		a.accountsCmd(),
		a.drillCmd(),
		a.forecastCmd(),
		a.benchCmd(),
	)
	return root
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "nudge", version)
		},
	}
}
