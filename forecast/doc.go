// Package forecast runs Nudge's real planner and send pipeline over a
// portfolio with a simulated clock and without sending anything, and counts
// what would happen day by day and channel by channel: reminders planned,
// sends, deferrals and suppressions by reason, SMS segments, call minutes,
// cost from a price list, and the sends per second each sender would have to
// carry at its busiest second.
//
// The caller builds the pieces the way a deployment does (a Planner whose
// Enqueuer is a Queue, a dispatcher Pipeline whose senders are Recorders, a
// scratch store) and Run advances a nudge.FixedClock through the days: the
// planner ticks every Tick, and every queued reminder runs through the
// pipeline at its process instant, exactly as a worker would take it from
// its queue. A deferral puts the reminder back at the instant compliance
// names, as the worker's retry does.
//
// Nothing in the forecast models borrowers: nobody replies, pays, promises
// or opts out during the forecast unless the accounts already say so (their
// status, holds, contacts' consent, and the opt-outs and promises the scratch
// ledger is given). Every send is accepted by the provider. docs/forecast.md
// states these assumptions.
package forecast
