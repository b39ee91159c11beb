package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge/store"
)

// startupRetry is how long a starting process keeps retrying a database that
// is briefly unreachable (a failover, a restart, connections killed): long
// enough to ride one out, short enough that a real outage is reported.
const startupRetry = 30 * time.Second

// retryStartup runs fn until it succeeds, fails for a reason other than a
// transient database error (a bad setting fails at once), ctx ends, or
// startupRetry has passed; it returns fn's last error.
func retryStartup(ctx context.Context, logger *slog.Logger, what string, fn func() error) error {
	deadline := time.Now().Add(startupRetry)
	wait := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil || !store.Transient(err) || time.Now().After(deadline) {
			return err
		}
		logger.Warn("the database is unavailable while starting; retrying", "step", what, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
