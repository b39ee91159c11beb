package main

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/cobra"
)

// roleCmd builds a command that runs some of the roles until SIGTERM or Ctrl-C.
func (a *app) roleCmd(use, short string, api, scheduler, worker bool) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rt, err := a.newRuntime(ctx, cfg, runtimeOptions{})
			if err != nil {
				return err
			}
			defer rt.Close()
			var roles []role
			if api {
				ln, err := rt.listen()
				if err != nil {
					return err
				}
				rt.logger.Info("api listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
				roles = append(roles, func(ctx context.Context) error { return rt.runAPI(ctx, ln) })
			}
			if !api && cfg.HealthAddr != "" {
				ln, err := net.Listen("tcp", cfg.HealthAddr)
				if err != nil {
					return fmt.Errorf("health_addr %s: %w", cfg.HealthAddr, err)
				}
				roles = append(roles, func(ctx context.Context) error { return rt.serveHTTP(ctx, ln, rt.health()) })
			}
			if scheduler {
				roles = append(roles, rt.runScheduler)
			}
			if worker {
				roles = append(roles, rt.runWorker)
			}
			if err := runRoles(ctx, roles...); err != nil {
				return fmt.Errorf("%s: %w", use, err)
			}
			return nil
		},
	}
}

func (a *app) serveCmd() *cobra.Command {
	return a.roleCmd("serve", "Run the api, scheduler and worker roles in one process", true, true, true)
}

func (a *app) apiCmd() *cobra.Command {
	return a.roleCmd("api", "Run the HTTP role: webhooks, API and health endpoints", true, false, false)
}

func (a *app) schedulerCmd() *cobra.Command {
	return a.roleCmd("scheduler", "Run the scheduler role: plan due reminders every tick and enqueue them", false, true, false)
}

func (a *app) workerCmd() *cobra.Command {
	return a.roleCmd("worker", "Run the worker role: re-check, render, send and record reminders", false, false, true)
}
