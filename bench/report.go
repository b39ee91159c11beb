package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets the issue sets.
const (
	// PlanningGrowthTarget is the most a tick over the largest portfolio may
	// cost, relative to a tick over the smallest with as many due.
	PlanningGrowthTarget = 2.0
	// DispatchTarget is the least share of the raw Asynq rate the full
	// pipeline must reach.
	DispatchTarget = 0.5
	// RoundTripsTarget and CommitsTarget are the most database round trips
	// and commits a dispatched reminder may cost, amortised.
	RoundTripsTarget = 3.0
	CommitsTarget    = 1.0
	// WebhooksTarget is the least share of the bare handler's rate the
	// status callback handler must reach.
	WebhooksTarget = 0.25
	// WorkerRSSTarget is the most resident memory the worker may reach.
	WorkerRSSTarget = 100 << 20
	// SQLiteDispatchFloor is the share of the raw Asynq rate the pipeline
	// reached on SQLite before #16 batched its writes: the build before
	// 53815da at its default concurrency (10), in alternating side runs
	// beside this build's at 3,000 reminders, did 40/s and 153/s against
	// raw Asynq at 2,342/s and 4,306/s (0.017 and 0.036; this build 0.075
	// and 0.086). The SQLite row must not fall below the better of the two.
	SQLiteDispatchFloor = 0.036
)

// Row is one line of the results table: a figure beside its ceiling.
type Row struct {
	Measure string `json:"measure"`
	Result  string `json:"result"`
	Ceiling string `json:"ceiling"`
	// Ratio is Result over Ceiling, formatted.
	Ratio  string `json:"ratio"`
	Target string `json:"target"`
	// Verdict is "ok", "MISSED" or empty when there is no target.
	Verdict string `json:"verdict"`
}

// RowNames are the measures every complete report has, in table order
// (planning rows are per size and come first).
var RowNames = []string{
	"planning cost growth (wall)",
	"planning cost growth (rows read)",
	"dispatch: reminders processed/s",
	"raw Asynq tasks/s",
	"Redis EVALSHA/s",
	"webhooks: status callbacks/s",
	"worker peak RSS",
	"Redis bytes per queued reminder",
	"dispatch: database round trips per reminder",
	"dispatch: PostgreSQL commits per reminder",
	"KPIs: a year, by channel and step",
}

// oneWorkerRun is the run's one-worker scale-out run (--workers 1), whose
// worker is a real `nudge worker` process.
func (r *Report) oneWorkerRun() (ScaleRun, bool) {
	for _, s := range r.Scale {
		if s.Workers == 1 && len(s.PeakRSS) == 1 {
			return s, true
		}
	}
	return ScaleRun{}, false
}

// workerRSSRow is the worker memory line of the results table: the peak
// VmHWM of a real `nudge worker` process when the run had a one-worker
// scale-out run, else the bench process's peak VmRSS during the pipeline's
// dispatch run. The bench process is the harness too, and by then it has
// planned every portfolio size, so it reads high; the row says which one
// it measured.
func (r *Report) workerRSSRow() Row {
	d := r.Dispatch
	row := Row{Measure: RowNames[6], Result: mib(d.Pipeline.PeakRSS) + " (bench process)", Ceiling: "raw Asynq worker " + mib(d.Raw.PeakRSS),
		Target: "< " + mib(WorkerRSSTarget)}
	peak := d.Pipeline.PeakRSS
	if s, ok := r.oneWorkerRun(); ok {
		peak = s.PeakRSS[0]
		row.Result = fmt.Sprintf("%s (`nudge worker`, %d reminders)", mib(peak), s.Reminders)
		row.Ceiling += "; bench process " + mib(d.Pipeline.PeakRSS)
	}
	row.Ratio = fmt.Sprintf("%.2f", ratio(float64(peak), float64(d.Raw.PeakRSS)))
	row.Verdict = verdict(peak > 0 && peak < WorkerRSSTarget)
	return row
}

// ratioText formats a ratio with two significant digits below 0.1.
func ratioText(v float64) string {
	if v != 0 && v < 0.1 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func perSec(v float64) string { return fmt.Sprintf("%.0f/s", v) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
}

func size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// taskCost is the cost of one Asynq task lifecycle measured in the run:
// Redis CPU per task of the raw run, or the raw run's wall time per task
// when Redis does not report its CPU.
func (r *Report) taskCost() (time.Duration, string) {
	if c := r.Dispatch.Raw.RedisCPU; c > 0 {
		return c, "Redis CPU per Asynq task"
	}
	if v := r.Dispatch.Raw.PerSecond(); v > 0 {
		return time.Duration(float64(time.Second) / v), "wall time per raw Asynq task"
	}
	return 0, "Asynq task (not measured)"
}

// Rows returns the results table.
func (r *Report) Rows() []Row {
	var rows []Row
	enq := r.Dispatch.EnqueuePerSecond()
	for _, p := range r.Planning {
		v := p.PerSecond()
		rows = append(rows, Row{
			Measure: fmt.Sprintf("planning %s accounts, %s due: reminders planned+enqueued/s", size(p.Accounts), size(p.Due)),
			Result:  perSec(v), Ceiling: "Asynq enqueue " + perSec(enq), Ratio: ratioText(ratio(v, enq)),
		})
		if l := p.Large; l != nil {
			rows = append(rows, largeTickRow(p.Accounts, *l))
		}
	}
	if n := len(r.Planning); n > 0 {
		small, large := r.Planning[0], r.Planning[n-1]
		wall := ratio(float64(large.Tick), float64(small.Tick))
		reads := ratio(float64(large.RowsRead), float64(small.RowsRead))
		label := fmt.Sprintf("%s ÷ %s", size(large.Accounts), size(small.Accounts))
		rows = append(rows,
			Row{Measure: RowNames[0], Result: fmt.Sprintf("%.2f× (%s)", wall, label), Ceiling: fmt.Sprintf("%.1f×", PlanningGrowthTarget),
				Ratio: fmt.Sprintf("%.2f", wall/PlanningGrowthTarget), Target: fmt.Sprintf("≤ %.0f×", PlanningGrowthTarget), Verdict: verdict(wall <= PlanningGrowthTarget)},
			Row{Measure: RowNames[1], Result: fmt.Sprintf("%.2f× (%s)", reads, label), Ceiling: fmt.Sprintf("%.1f×", PlanningGrowthTarget),
				Ratio: fmt.Sprintf("%.2f", reads/PlanningGrowthTarget), Target: fmt.Sprintf("≤ %.0f×", PlanningGrowthTarget), Verdict: verdict(reads <= PlanningGrowthTarget)})
	}
	d := r.Dispatch
	raw, pipe := d.Raw.PerSecond(), d.Pipeline.PerSecond()
	rows = append(rows,
		Row{Measure: RowNames[2], Result: perSec(pipe), Ceiling: "raw Asynq " + perSec(raw), Ratio: ratioText(ratio(pipe, raw)),
			Target: fmt.Sprintf("≥ %.2f", DispatchTarget), Verdict: verdict(ratio(pipe, raw) >= DispatchTarget)},
		Row{Measure: RowNames[3], Result: perSec(raw), Ceiling: "EVALSHA " + perSec(r.EvalSHA.PerSecond), Ratio: ratioText(ratio(raw, r.EvalSHA.PerSecond))},
		Row{Measure: RowNames[4], Result: perSec(r.EvalSHA.PerSecond), Ceiling: "—", Ratio: "—"},
	)
	if q := r.SQLite; q != nil {
		qRatio := ratio(q.Pipeline.PerSecond(), q.Raw.PerSecond())
		rows = append(rows, Row{Measure: "dispatch on SQLite: reminders processed/s", Result: perSec(q.Pipeline.PerSecond()),
			Ceiling: "raw Asynq " + perSec(q.Raw.PerSecond()), Ratio: ratioText(qRatio),
			Target: fmt.Sprintf("≥ %.3f (before #16)", SQLiteDispatchFloor), Verdict: verdict(qRatio >= SQLiteDispatchFloor)})
	}
	w := r.Webhooks
	whRatio := ratio(w.HandlerPerSecond(), w.BarePerSecond())
	rows = append(rows, Row{Measure: RowNames[5], Result: perSec(w.HandlerPerSecond()), Ceiling: "bare handler " + perSec(w.BarePerSecond()),
		Ratio: ratioText(whRatio), Target: fmt.Sprintf("≥ %.2f", WebhooksTarget), Verdict: verdict(whRatio >= WebhooksTarget)})
	rows = append(rows,
		r.workerRSSRow(),
		Row{Measure: RowNames[7], Result: fmt.Sprintf("%.0f B", r.Redis.ReminderBytes), Ceiling: fmt.Sprintf("bare Asynq task %.0f B", r.Redis.BareBytes),
			Ratio: fmt.Sprintf("%.2f", ratio(r.Redis.ReminderBytes, r.Redis.BareBytes))},
		Row{Measure: RowNames[8], Result: fmt.Sprintf("%.1f", d.RoundTrips), Ceiling: "—", Ratio: "—",
			Target: fmt.Sprintf("≤ %.0f", RoundTripsTarget), Verdict: verdict(d.RoundTrips <= RoundTripsTarget)},
	)
	commits := Row{Measure: RowNames[9], Result: "— (SQLite)", Ceiling: "—", Ratio: "—", Target: fmt.Sprintf("≤ %.0f", CommitsTarget)}
	if d.Transactions > 0 {
		commits.Result = fmt.Sprintf("%.2f write transactions (%.1f with the read-only ones; %.2f WAL flushes)", d.Writes, d.Transactions, d.WALSyncs)
		commits.Verdict = verdict(d.Writes <= CommitsTarget)
	}
	rows = append(rows, commits, r.kpiRow())
	cost, costName := r.taskCost()
	for _, m := range r.Micro {
		rows = append(rows, Row{Measure: fmt.Sprintf("%s (%s)", m.Name, m.Func),
			Result:  fmt.Sprintf("%s/op, %d allocs", dur(m.PerOp), m.AllocsPerOp),
			Ceiling: fmt.Sprintf("%s %s", costName, dur(cost)), Ratio: ratioText(ratio(float64(m.PerOp), float64(cost)))})
	}
	return rows
}

// WriteTable prints the results table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tRESULT\tCEILING\tRATIO\tTARGET\tVERDICT")
	for _, row := range r.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Measure, row.Result, row.Ceiling, row.Ratio, dash(row.Target), dash(row.Verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeScaleTable(w)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// WriteMarkdown writes docs/benchmarks.md: the machine, the command that
// produced the run, the table, the details behind each figure, and notes
// (hand-written analysis kept across regenerations) when given.
func (r *Report) WriteMarkdown(w io.Writer, command, notes string) error {
	var b strings.Builder
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `nudge bench`; regenerate with the command below. Every figure stands beside the\n" +
		"ceiling it is bounded by, measured in the same run on the same machine.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores\n- Memory: %s\n- OS: %s\n- Go: %s\n- %s, %s\n", m.CPU, m.Cores, m.Memory, m.Kernel, m.Go, m.Redis, m.Database)
	if m.Autovacuum == "off" {
		b.WriteString("- PostgreSQL's autovacuum is off on this server: the harness runs ANALYZE after each bulk load and,\n" +
			"  during the dispatch and webhook runs, analyzes every half second each table changed by more than\n" +
			"  50 rows plus its size since its last analysis (once per doubling; store.AutoAnalyze says why).\n")
	}
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %s at the start, %s at the end. The machine is shared: other\n  engineers' builds and tests ran at the same time, so absolute rates are low and noisy; the ratios\n  compare figures measured side by side.\n", m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(&b, "- Run: %s, %s.\n\n", r.Started.Format(time.RFC3339), dur(r.Duration))
	b.WriteString("## Command\n\n```sh\n" + command + "\n```\n\n")
	b.WriteString("## Results\n\n| Measure | Result | Ceiling (same run) | Ratio | Target | Verdict |\n|---|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Measure, row.Result, row.Ceiling, row.Ratio, dash(row.Target), dash(row.Verdict))
	}
	r.writePlanning(&b)
	d := r.Dispatch
	fmt.Fprintf(&b, "\n## Dispatch\n\n%d reminders, %d Asynq server(s) × concurrency %d, same Redis database. The raw run enqueues\n"+
		"stand-in tasks through the product's Enqueuer (%s, %s sequentially: the planning ceiling) and works them off\n"+
		"with a handler that does nothing. The pipeline run works off real reminders: load, account, decision, claim,\n"+
		"render, rate limit (a Redis token bucket at 10⁶/s), send to a provider that answers at once, record.\n"+
		"%d reminders ended sent; %d handler errors.\n\n", d.Reminders, d.Servers, d.Concurrency, dur(d.Enqueue), perSec(d.EnqueuePerSecond()), d.Sent, d.Pipeline.Failed)
	b.WriteString("| Run | Done | Wall | Rate | Peak RSS | CPU/task: worker | CPU/task: Redis | CPU/task: PostgreSQL (the bench database's backends) |\n|---|---|---|---|---|---|---|---|\n")
	for _, run := range []struct {
		name string
		w    WorkerRun
	}{{"raw Asynq (do nothing)", d.Raw}, {"full pipeline", d.Pipeline}} {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", run.name, run.w.Done, dur(run.w.Elapsed), perSec(run.w.PerSecond()),
			mib(run.w.PeakRSS), dur(run.w.SelfCPU), dur(run.w.RedisCPU), dur(run.w.PostgresCPU))
	}
	cpu := d.Pipeline.SelfCPU + d.Pipeline.RedisCPU + d.Pipeline.PostgresCPU
	fmt.Fprintf(&b, "\nCPU per reminder, all processes: %s; at %s that is %.2f of the machine's %d cores.\n",
		dur(cpu), perSec(d.Pipeline.PerSecond()), cpu.Seconds()*d.Pipeline.PerSecond(), m.Cores)
	if d.Transactions > 0 {
		fmt.Fprintf(&b, "PostgreSQL per reminder: %.2f write transactions (transaction ids assigned, which a read-only transaction\n"+
			"never takes; the commits row counts these), %.1f transactions with the read-only ones (every statement or read\n"+
			"batch outside a transaction is one) and %.2f WAL flushes (what durable commits wait for; concurrent commits share one).\n",
			d.Writes, d.Transactions, d.WALSyncs)
	}
	b.WriteString("\nWhere a reminder's time goes (store and Redis calls made by the pipeline, timed around each call;\n" +
		"with concurrency above one these overlap):\n\n| Call | Per reminder | Mean | Time per reminder |\n|---|---|---|---|\n")
	var total time.Duration
	for _, c := range d.Calls {
		t := time.Duration(c.PerReminder * float64(c.Mean))
		total += t
		fmt.Fprintf(&b, "| %s | %.2f | %s | %s |\n", c.Method, c.PerReminder, dur(c.Mean), dur(t))
	}
	if d.Pipeline.Done > 0 {
		slot := time.Duration(float64(d.Pipeline.Elapsed) * float64(d.Concurrency*d.Servers) / float64(d.Pipeline.Done))
		fmt.Fprintf(&b, "| **total** | | | **%s** of %s per reminder per worker slot |\n", dur(total), dur(slot))
	}
	fmt.Fprintf(&b, "\nRedis EVALSHA ceiling: `%s`.\n", r.EvalSHA.Method)
	r.writeScale(&b)
	wh := r.Webhooks
	fmt.Fprintf(&b, "\n## Webhooks\n\n%d signed `delivered` status callbacks for the dispatched messages, posted over loopback HTTP by %d\n"+
		"clients to `webhooks.TwilioSMS` (signature check, attempt lookup, update, event; durable in the database): %s.\n"+
		"The same requests to a handler that only parses the form: %s.\n",
		wh.Callbacks, wh.Clients, dur(wh.Handler), dur(wh.Bare))
	fmt.Fprintf(&b, "\n## Memory\n\n- Worker: peak VmRSS of the bench process (it is the worker, and the harness that planned the portfolios)\n"+
		"  sampled every 50 ms during each dispatch run, after a GC: %s with the full pipeline, %s with the do-nothing handler.\n",
		mib(d.Pipeline.PeakRSS), mib(d.Raw.PeakRSS))
	if s, ok := r.oneWorkerRun(); ok {
		fmt.Fprintf(&b, "- A real `nudge worker` process (the one-worker scale-out run, %d reminders): %s peak (VmHWM); the results\n"+
			"  table reports this one.\n", s.Reminders, mib(s.PeakRSS[0]))
	}
	fmt.Fprintf(&b, "- Redis: %d reminders scheduled an hour ahead through the Enqueuer; `MEMORY USAGE … SAMPLES 0` summed over\n"+
		"  the bench database's keys: %.0f bytes per reminder, against %.0f bytes per bare Asynq task (no payload, no\n"+
		"  TaskID, no retention). INFO `used_memory` moved by %.0f bytes per reminder (whole server, others included).\n",
		r.Redis.Queued, r.Redis.ReminderBytes, r.Redis.BareBytes, r.Redis.UsedMemoryBytes)
	if len(r.Micro) > 0 {
		cost, costName := r.taskCost()
		fmt.Fprintf(&b, "\n## Hot functions\n\n`testing.Benchmark` in the harness; the package benchmarks of the same inputs run with\n"+
			"`go test -run '^$' -bench . -benchmem ./compliance ./templates ./reply ./channels/twilio`. Ceiling: %s, %s.\n\n"+
			"| Function | Time/op | Allocs/op | Bytes/op | Share of an Asynq task | Package benchmark |\n|---|---|---|---|---|---|\n", costName, dur(cost))
		for _, mr := range r.Micro {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.2f | %s |\n", mr.Func, dur(mr.PerOp), mr.AllocsPerOp, mr.BytesPerOp, ratio(float64(mr.PerOp), float64(cost)), mr.Test)
		}
	}
	if notes = strings.TrimSpace(notes); notes != "" {
		b.WriteString("\n## Analysis\n\n" + notes + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// scaleHeader are the columns of the scale-out table.
var scaleHeader = []string{"Worker processes", "Reminders/s", "Speed-up", "CPU/reminder: workers (each process's share)",
	"CPU/reminder: PostgreSQL backends (whole server)", "CPU/reminder: Redis", "Peak RSS per worker", "Idle CPU per worker"}

// ScaleRows returns the scale-out table, one row per run of Config.Workers
// (empty without one). The speed-up is over the run with one process, or
// over the first run when there is none.
func (r *Report) ScaleRows() [][]string {
	if len(r.Scale) == 0 {
		return nil
	}
	base := r.Scale[0]
	for _, s := range r.Scale {
		if s.Workers == 1 {
			base = s
			break
		}
	}
	over := ""
	if base.Workers != 1 {
		over = fmt.Sprintf(" over %d", base.Workers)
	}
	rows := make([][]string, 0, len(r.Scale))
	for _, s := range r.Scale {
		per := make([]string, len(s.WorkerCPU))
		for i, c := range s.WorkerCPU {
			per[i] = dur(s.perReminder(c))
		}
		rss := make([]string, len(s.PeakRSS))
		for i, b := range s.PeakRSS {
			rss[i] = fmt.Sprintf("%.0f", float64(b)/(1<<20))
		}
		pg := fmt.Sprintf("%s (%s)", dur(s.DatabaseCPUPerReminder()), dur(s.PostgresCPUPerReminder()))
		if r.Database != "postgres" {
			pg = "— (" + r.Database + ")"
		}
		rows = append(rows, []string{
			fmt.Sprint(s.Workers), perSec(s.PerSecond()),
			fmt.Sprintf("%.2f×%s", ratio(s.PerSecond(), base.PerSecond()), over),
			fmt.Sprintf("%s (%s)", dur(s.WorkerCPUPerReminder()), strings.Join(per, ", ")),
			pg, dur(s.RedisCPUPerReminder()), strings.Join(rss, ", ") + " MiB",
			fmt.Sprintf("%.1f ms/s", float64(s.MeanIdleCPU())/float64(time.Millisecond)),
		})
	}
	return rows
}

// writeScaleTable prints the scale-out table for a terminal.
func (r *Report) writeScaleTable(w io.Writer) error {
	rows := r.ScaleRows()
	if len(rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(scaleHeader, "\t")))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// writeScale writes the Markdown section of the scale-out runs.
func (r *Report) writeScale(b *strings.Builder) {
	rows := r.ScaleRows()
	if len(rows) == 0 {
		return
	}
	s0 := r.Scale[0]
	fmt.Fprintf(b, "\n## Scale-out\n\n%d reminders per run, worked off by real `nudge worker` processes started from the bench's binary,\n"+
		"each with concurrency %d, over the same database and Redis database, sending through a stand-in Twilio API\n"+
		"on loopback that accepts every message at once (rate budget 10⁶/s). The reminders are stored and enqueued\n"+
		"first and held on paused queues until every process has registered; the rate runs from the first reminder\n"+
		"seen final to the last (the database is polled after half the time the rate so far says the rest will take,\n"+
		"from 50 ms to 1 s: a poll counts the lender's reminders, which costs PostgreSQL CPU the run would count).\n"+
		"CPU is read from /proc/PID/stat for each\n"+
		"worker process, from the PostgreSQL backends connected to the bench database (and, in brackets, from every\n"+
		"`postgres` process: the whole server, other databases' users and the background writers included) and\n"+
		"from Redis's INFO over the same interval, and divided by the reminders; peak RSS is each process's VmHWM.\n"+
		"Idle CPU is a process's CPU time per second, the mean over the processes, while all were registered and\n"+
		"their queues paused for %s before the release: what a worker costs with nothing to do (/proc counts\n"+
		"10 ms ticks, so the resolution is %.1f ms/s). The speed-up is over one process.\n\n", s0.Reminders, s0.Concurrency, idleWindow, 10/idleWindow.Seconds())
	b.WriteString("| " + strings.Join(scaleHeader, " | ") + " |\n|" + strings.Repeat("---|", len(scaleHeader)) + "\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	for _, s := range r.Scale {
		if s.Sent != s.Final || s.Final != s.Reminders {
			fmt.Fprintf(b, "\nWith %d process(es) %d of %d reminders ended final, %d of them sent.\n", s.Workers, s.Final, s.Reminders, s.Sent)
		}
	}
	fmt.Fprintf(b, "\nAll processes share this machine's %d cores with PostgreSQL, Redis and the bench itself: once the cores\n"+
		"are busy, more worker processes add no capacity, so the speed-up here shows the per-process overhead rather\n"+
		"than what the same processes on separate machines would do. CPU per reminder is what sizes a fleet\n"+
		"(docs/operations.md, \"Sizing a fleet\").\n", r.Machine.Cores)
}
