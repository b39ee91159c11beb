// Package bench is Nudge's benchmark harness, run by `nudge bench`. It
// measures, against a real Redis and a real database (PostgreSQL or SQLite),
// what Nudge adds on top of the systems it sits on, each figure beside the
// ceiling it is bounded by, measured in the same run on the same machine:
//
//   - planning: reminders planned and enqueued per second for portfolios of
//     growing size with the same number due, beside the Asynq enqueue rate;
//     a tick's cost (wall time and account rows read) must grow with what is
//     due, not with the portfolio;
//   - dispatch: reminders fully processed per second (decision, claim,
//     render, rate limit, send to a provider that answers at once, record)
//     beside the raw Asynq rate (same Redis, same concurrency, a handler that
//     does nothing) and Redis's own EVALSHA rate, with a breakdown of where a
//     reminder's time goes;
//   - webhooks: Twilio status callbacks ingested per second with signature
//     checks and durable writes, beside a bare handler;
//   - memory: the worker's resident memory under load beside a bare Asynq
//     worker's, and Redis bytes per queued reminder beside a bare Asynq task;
//   - hot functions: the decision, render, reply parsing and signature check,
//     with allocation counts, beside the cost of one Asynq task lifecycle.
//
// Run measures; Report prints the table and writes docs/benchmarks.md.
package bench
