package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
)

// MaxWorkers is the most worker processes one scale-out run starts.
const MaxWorkers = 64

// idleWindow is how long the registered worker processes are watched
// with nothing to do (their queues paused) to measure what a process
// costs while idle.
const idleWindow = 3 * time.Second

// ScaleRun is one dispatch run worked off by real `nudge worker` processes.
type ScaleRun struct {
	// Workers is how many worker processes ran, each with Concurrency.
	Workers     int `json:"workers"`
	Concurrency int `json:"concurrency"`
	// Reminders is how many reminders were enqueued; Final how many of them
	// reached a final status, Sent how many of those were sent.
	Reminders int `json:"reminders"`
	Final     int `json:"final"`
	Sent      int `json:"sent"`
	// Startup is the time from starting the processes until all of them
	// had registered their Asynq servers (not part of Elapsed).
	Startup time.Duration `json:"startup"`
	// Elapsed is the time from releasing the queues until every reminder
	// was final in the database.
	Elapsed time.Duration `json:"elapsed"`
	// FirstAt is when (after the release) the database was first seen to
	// hold a final reminder, and FirstFinal how many it held then: the
	// rate is measured from there, leaving out the up to one second an
	// idle Asynq server sleeps before it looks at a queue again.
	FirstAt    time.Duration `json:"first_at"`
	FirstFinal int           `json:"first_final"`
	// WorkerCPU is each worker process's CPU time (user and system) during
	// Elapsed; PeakRSS each one's peak resident memory (VmHWM) in bytes.
	WorkerCPU []time.Duration `json:"worker_cpu"`
	PeakRSS   []int64         `json:"peak_rss"`
	// IdleCPU is each worker process's CPU time per second while it was
	// registered and had nothing to do (idleWindow, before the release):
	// Asynq's polling, heartbeats and housekeeping.
	IdleCPU []time.Duration `json:"idle_cpu_per_second"`
	// RedisCPU and PostgresCPU are the servers' CPU time during Elapsed
	// (PostgreSQL's is zero on SQLite): every postgres process on this
	// machine, other users' of a shared server included.
	RedisCPU    time.Duration `json:"redis_cpu"`
	PostgresCPU time.Duration `json:"postgres_cpu"`
	// DatabaseCPU is the CPU time during Elapsed of the PostgreSQL backends
	// connected to the bench database (the workers' and the bench's own
	// polling): it leaves out other databases' work and the server's
	// background writers.
	DatabaseCPU time.Duration `json:"database_cpu"`
}

// PerSecond is the reminders made final per second, from the first seen
// final to the last.
func (r ScaleRun) PerSecond() float64 { return rate(r.Final-r.FirstFinal, r.Elapsed-r.FirstAt) }

// perReminder divides d by the reminders made final.
func (r ScaleRun) perReminder(d time.Duration) time.Duration {
	if r.Final == 0 {
		return 0
	}
	return d / time.Duration(r.Final)
}

// WorkerCPUPerReminder is the CPU time of all worker processes together
// per reminder.
func (r ScaleRun) WorkerCPUPerReminder() time.Duration {
	var sum time.Duration
	for _, c := range r.WorkerCPU {
		sum += c
	}
	return r.perReminder(sum)
}

// RedisCPUPerReminder and PostgresCPUPerReminder are the servers' CPU time
// per reminder.
func (r ScaleRun) RedisCPUPerReminder() time.Duration { return r.perReminder(r.RedisCPU) }

// PostgresCPUPerReminder is PostgreSQL's CPU time per reminder.
func (r ScaleRun) PostgresCPUPerReminder() time.Duration { return r.perReminder(r.PostgresCPU) }

// DatabaseCPUPerReminder is the bench database's backends' CPU time per
// reminder.
func (r ScaleRun) DatabaseCPUPerReminder() time.Duration { return r.perReminder(r.DatabaseCPU) }

// MeanIdleCPU is the mean of IdleCPU: a worker process's CPU time per
// second with nothing to do.
func (r ScaleRun) MeanIdleCPU() time.Duration {
	if len(r.IdleCPU) == 0 {
		return 0
	}
	var sum time.Duration
	for _, c := range r.IdleCPU {
		sum += c
	}
	return sum / time.Duration(len(r.IdleCPU))
}

// MaxPeakRSS is the largest peak resident memory of one worker process.
func (r ScaleRun) MaxPeakRSS() int64 {
	var m int64
	for _, v := range r.PeakRSS {
		m = max(m, v)
	}
	return m
}

// finalStatuses are the statuses a reminder does not leave by itself.
var finalStatuses = []nudge.ReminderStatus{
	nudge.ReminderSent, nudge.ReminderSuppressed, nudge.ReminderExpired,
	nudge.ReminderCanceled, nudge.ReminderFailed, nudge.ReminderUnknown,
}

// measureScale runs one scale-out run per count of cfg.Workers.
func measureScale(ctx context.Context, e *env) ([]ScaleRun, error) {
	exe, err := e.cfg.workerExe()
	if err != nil {
		return nil, err
	}
	var runs []ScaleRun
	for i, n := range e.cfg.Workers {
		run, err := scaleRun(ctx, e, exe, n, i)
		if err != nil {
			return runs, fmt.Errorf("%d worker processes: %w", n, err)
		}
		fmt.Fprintf(e.cfg.Progress, "scale-out: %d worker process(es): %d reminders final (%d sent) in %s, first after %s (%.0f/s; worker CPU %s, PostgreSQL %s (server %s), Redis %s per reminder)\n",
			n, run.Final, run.Sent, run.Elapsed.Round(time.Millisecond), run.FirstAt.Round(time.Millisecond), run.PerSecond(),
			dur(run.WorkerCPUPerReminder()), dur(run.DatabaseCPUPerReminder()), dur(run.PostgresCPUPerReminder()), dur(run.RedisCPUPerReminder()))
		runs = append(runs, run)
	}
	return runs, nil
}

// workerExe is the nudge binary the worker processes run.
func (c Config) workerExe() (string, error) {
	if c.WorkerExe != "" {
		return c.WorkerExe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("workers: finding the nudge binary: %w", err)
	}
	return exe, nil
}

// scaleRun stores and enqueues cfg.Dispatch reminders due now on the wall
// clock, holds them on paused queues while n `nudge worker` processes
// start, then releases them and measures until every one is final.
func scaleRun(ctx context.Context, e *env, exe string, n, round int) (run ScaleRun, err error) {
	cfg := e.cfg
	run = ScaleRun{Workers: n, Concurrency: cfg.Concurrency, Reminders: cfg.Dispatch}
	if err := e.flush(ctx); err != nil {
		return run, err
	}
	dir, err := os.MkdirTemp("", "nudge-bench-workers-")
	if err != nil {
		return run, fmt.Errorf("workers dir: %w", err)
	}
	defer os.RemoveAll(dir)
	prov, err := startInstantTwilio()
	if err != nil {
		return run, err
	}
	defer prov.close()

	before, err := e.finalCounts(ctx)
	if err != nil {
		return run, err
	}
	enq := dispatcher.NewEnqueuer(e.rdb, dispatcher.EnqueuerConfig{Clock: nudge.SystemClock})
	if err := planScale(ctx, e, enq, cfg.Dispatch, round); err != nil {
		return run, err
	}
	insp := enq.Inspector()
	queues, err := insp.Queues()
	if err != nil {
		return run, fmt.Errorf("list queues: %w", err)
	}
	for _, q := range queues {
		if err := insp.PauseQueue(q); err != nil {
			return run, fmt.Errorf("pause queue %s: %w", q, err)
		}
	}
	cfgPath, err := writeWorkerConfig(dir, cfg, prov.url)
	if err != nil {
		return run, err
	}

	started := time.Now()
	procs := make([]*workerProc, 0, n)
	defer func() {
		for _, p := range procs {
			err = errors.Join(err, p.stop())
		}
	}()
	for i := range n {
		p, err := startWorker(exe, cfg.WorkerEnv, cfgPath, filepath.Join(dir, fmt.Sprintf("worker-%d.log", i+1)))
		if err != nil {
			return run, err
		}
		procs = append(procs, p)
	}
	if err := awaitServers(ctx, insp, procs); err != nil {
		return run, err
	}
	run.Startup = time.Since(started)

	cpu0 := make([]time.Duration, n)
	for i, p := range procs {
		cpu0[i] = pidCPU(p.pid())
	}
	idleFrom := time.Now()
	select {
	case <-ctx.Done():
		return run, ctx.Err()
	case <-time.After(idleWindow):
	}
	idleFor := time.Since(idleFrom)
	for i, p := range procs {
		c := pidCPU(p.pid())
		run.IdleCPU = append(run.IdleCPU, time.Duration(float64(c-cpu0[i])/idleFor.Seconds()))
		cpu0[i] = c
	}
	redis0, pg0, db0 := redisCPU(ctx, e.rdb), processCPU("postgres"), e.databaseCPU(ctx)
	began := time.Now()
	for _, q := range queues {
		if err := insp.UnpauseQueue(q); err != nil {
			return run, fmt.Errorf("unpause queue %s: %w", q, err)
		}
	}
	w, err := awaitFinal(ctx, e, before, cfg.Dispatch, procs)
	run.Elapsed = time.Since(began)
	run.Final, run.Sent, run.FirstFinal = w.final, w.sent, w.firstFinal
	if !w.first.IsZero() {
		run.FirstAt = w.first.Sub(began)
	}
	run.RedisCPU = redisCPU(ctx, e.rdb) - redis0
	if e.db.Backend() == store.Postgres {
		run.PostgresCPU = processCPU("postgres") - pg0
		run.DatabaseCPU = e.databaseCPU(ctx) - db0
	}
	for i, p := range procs {
		run.WorkerCPU = append(run.WorkerCPU, pidCPU(p.pid())-cpu0[i])
		rss, _ := pidStatus(p.pid(), "VmHWM") // zero when the process is gone
		run.PeakRSS = append(run.PeakRSS, rss)
	}
	if err != nil {
		return run, err
	}
	return run, e.flush(ctx)
}

// finalCounts counts the bench lender's reminders by status.
func (e *env) finalCounts(ctx context.Context) (map[nudge.ReminderStatus]int, error) {
	counts, err := e.db.CountRemindersByStatus(ctx, e.lender)
	if err != nil {
		return nil, fmt.Errorf("count reminders: %w", err)
	}
	return counts, nil
}

// progress is what awaitFinal saw: the final reminders (sent ones among
// them) and the first poll that saw any.
type progress struct {
	final, sent, firstFinal int
	first                   time.Time
}

// awaitFinal polls the database until want more reminders than in before
// are final. A poll counts all the bench lender's reminders (tens of
// milliseconds of PostgreSQL's CPU once it holds tens of thousands), which
// the run's CPU per reminder would count as the workers', so after the first
// final reminder it polls again after half the time the rate so far says
// the rest will take: often near the end, seldom before (#16).
func awaitFinal(ctx context.Context, e *env, before map[nudge.ReminderStatus]int, want int, procs []*workerProc) (progress, error) {
	const minPoll, maxPoll = 50 * time.Millisecond, time.Second
	var p progress
	timeout := 2*time.Minute + time.Duration(want)*10*time.Millisecond
	deadline := time.Now().Add(timeout)
	for {
		counts, err := e.finalCounts(ctx)
		if err != nil {
			return p, err
		}
		p.final = 0
		for _, s := range finalStatuses {
			p.final += counts[s] - before[s]
		}
		p.sent = counts[nudge.ReminderSent] - before[nudge.ReminderSent]
		if p.final > 0 && p.first.IsZero() {
			p.first, p.firstFinal = time.Now(), p.final
		}
		if p.final >= want {
			return p, nil
		}
		for _, w := range procs {
			if w.exited() {
				return p, fmt.Errorf("%s exited during the run: %s", w.name, lastLogLine(w.logPath))
			}
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("%d of %d reminders final after %s", p.final, want, timeout)
		}
		wait := minPoll
		if done := p.final - p.firstFinal; done > 0 {
			perReminder := time.Since(p.first) / time.Duration(done)
			wait = min(max(perReminder*time.Duration(want-p.final)/2, minPoll), maxPoll)
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// awaitServers waits until every process has registered its Asynq server.
func awaitServers(ctx context.Context, insp *asynq.Inspector, procs []*workerProc) error {
	deadline := time.Now().Add(time.Minute)
	for {
		servers, err := insp.Servers()
		if err == nil && len(servers) >= len(procs) {
			return nil
		}
		for _, p := range procs {
			if p.exited() {
				return fmt.Errorf("%s exited at start: %s", p.name, lastLogLine(p.logPath))
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("worker processes registered: %w", err)
			}
			return fmt.Errorf("%d of %d worker processes registered after a minute", len(servers), len(procs))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// scaleZone returns an Etc/GMT zone in which the wall clock shows between
// 13:00 and 14:00 now (inside every calling window), and the date there.
func scaleZone(now time.Time) (string, nudge.Date, error) {
	offset := 13 - now.UTC().Hour() // from -10 to +13 hours
	name := "Etc/GMT"
	switch {
	case offset > 0:
		name = fmt.Sprintf("Etc/GMT-%d", offset)
	case offset < 0:
		name = fmt.Sprintf("Etc/GMT+%d", -offset)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "", nudge.Date{}, fmt.Errorf("zone %s: %w", name, err)
	}
	return name, nudge.DateOf(now.In(loc)), nil
}

// planScale stores n fresh accounts with one SMS reminder each, due now on
// the wall clock (the worker processes run on it), and enqueues them. The
// borrowers live in a zone where it is early afternoon and have toll-free
// numbers (which place them in no zone), so that every reminder may go out
// whatever the hour of the run.
func planScale(ctx context.Context, e *env, enq *dispatcher.Enqueuer, n, round int) error {
	now := time.Now()
	zone, today, err := scaleZone(now)
	if err != nil {
		return err
	}
	cads, err := e.lib.Cadences(ctx, e.lender)
	if err != nil || len(cads) == 0 {
		return fmt.Errorf("scale-out reminders: the bench cadence is not active: %w", err)
	}
	start := time.Now()
	if err := storeDue(ctx, e, enq, cads[0], now, n, "scale-out", func(k int) nudge.Account {
		return nudge.Account{
			ID: fmt.Sprintf("W%d-%07d", round, k), Lender: e.lender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Borrower %d", k), Language: "en", Timezone: zone},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: fmt.Sprintf("+1800%07d", round*1_000_000+k), Consent: true}},
			Currency: "USD", AmountDue: fmt.Sprintf("%d.%02d", 150+k%750, k%100), DueDate: today, Status: nudge.StatusActive,
		}
	}); err != nil {
		return err
	}
	fmt.Fprintf(e.cfg.Progress, "scale-out: %d reminders stored and enqueued in %s\n", n, time.Since(start).Round(time.Millisecond))
	return e.analyze(ctx)
}

// Credentials of the stand-in Twilio API.
const (
	scaleAccountSID = "AC" + "be4c" + "0000000000000000000000000000"
	scaleAuthToken  = "benchtoken0123456789"
)

// writeWorkerConfig writes the worker processes' YAML config: the bench's
// database and Redis database, the stand-in Twilio API at providerURL with
// a rate budget far above the run's rate, and the bench's concurrency.
func writeWorkerConfig(dir string, cfg Config, providerURL string) (string, error) {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", err
	}
	// The lender and its cadence are in the database already: the config
	// names no lender, so the processes write none.
	yaml := fmt.Sprintf(`database: %q
public_url: "http://127.0.0.1:1"
secret: %q
redis:
  addr: %q
  db: %d
worker:
  concurrency: %d
  shutdown_timeout: 5s
twilio:
  account_sid: %s
  auth_token: %s
  from: "55501"
  voice_from: "+18005550199"
  mps: 1000000
  base_url: %q
  timeout: 10s
log:
  level: warn
  format: json
`, cfg.Database, hex.EncodeToString(secret[:]), cfg.RedisAddr, cfg.RedisDB, cfg.Concurrency, scaleAccountSID, scaleAuthToken, providerURL)
	path := filepath.Join(dir, "nudge.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return "", fmt.Errorf("worker config: %w", err)
	}
	return path, nil
}

// workerProc is one `nudge worker` child process.
type workerProc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startWorker runs `exe worker --config cfgPath`, its output going to
// logPath. The child reads only the config file and env: NUDGE_* settings
// of the bench's own environment do not reach it.
func startWorker(exe string, env []string, cfgPath, logPath string) (*workerProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("worker log: %w", err)
	}
	cmd := exec.Command(exe, "worker", "--config", cfgPath)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NUDGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s worker: %w", exe, err)
	}
	p := &workerProc{name: strings.TrimSuffix(filepath.Base(logPath), ".log"), cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *workerProc) pid() int { return p.cmd.Process.Pid }

func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process with SIGTERM, and SIGKILL if it has not exited
// within 15 s; an exit other than the one SIGTERM asks for is an error.
func (p *workerProc) stop() error {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("%s did not stop within 15 s of SIGTERM; killed", p.name)
		}
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s: %w: %s", p.name, p.waitErr, lastLogLine(p.logPath))
	}
	return nil
}

// lastLogLine returns the last non-empty line of the file at path.
func lastLogLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}
