// Package sendtime chooses the hour a reminder is sent at (send-time
// optimisation, issue #19). For each borrower and channel it keeps, per local
// hour of the day, how many contacts were made at that hour (trials) and how
// many of them got a response (successes: a reply, an answered call, a
// promise), and picks the hour of the step's day with the best expected
// response by Thompson sampling: every allowed hour draws a value from its
// Beta posterior and the highest draw wins. The prior of each hour is pooled
// from similar borrowers (same lender, portfolio, time zone and language), so
// a new borrower starts from what works for people like them.
//
// The package does no I/O and never reads the clock: counts come through a
// Source (the store keeps them as a rollup of the ledger) and every instant is
// passed in. The randomness is seeded per choice from Optimiser.Seed and the
// reminder's id, so a plan is reproducible whatever order the planner's lanes
// run in. The chosen time is only a preference: it is always one the
// compliance window allows, and the worker's re-check (window, caps, holds)
// still runs at send time. See docs/send-time.md.
package sendtime
