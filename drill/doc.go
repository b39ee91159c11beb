// Package drill runs Nudge's reliability drills: real `nudge scheduler`,
// `nudge worker` and `nudge api` processes on one machine, sharing a
// database and a Redis, sending through an in-process simulated Twilio
// (twiliosim), while the drill breaks things around them: it kills workers
// with SIGKILL, restarts and flushes Redis, cuts the database off behind a
// TCP proxy, makes the provider answer 500 and 429 in bursts, replays
// webhooks duplicated, out of order and forged, and runs several replicas of
// each role at once.
//
// At the end of each drill the invariants Nudge promises are checked from
// the database and the simulator: every reminder reached a final status
// within the deadline (none lost), no borrower got the same message twice
// (at most one accepted provider message per number), provider calls per
// reminder stay within the injected failures plus one and within the retry
// budget, and every attempt a crash left unclear is counted and listed as
// unknown rather than sent again. Each drill fills a Result; WriteTable
// prints them.
//
// The drills never touch shared services: Redis is a redis-server the drill
// starts on a free port (or a database number the caller dedicates to it,
// or an in-process miniredis), and PostgreSQL drills create a fresh database
// named nudge_drill_<random> from an admin URL and drop it afterwards.
package drill
