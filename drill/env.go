package drill

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/store"
)

const (
	// lender is the drills' tenant.
	lender = "drill"
	// lenderB is the second tenant of the fairness drill.
	lenderB = "drill-b"
	// cadenceName and stepID name the one SMS step every account is due
	// (voiceStepID the one call of a drill with envConfig.voice).
	cadenceName = "drill-due"
	stepID      = "due-sms"
	voiceStepID = "due-voice"
	// accountSID and authToken are the simulator's credentials.
	accountSID = "AC" + "d0d0" + "0000000000000000000000000000"
	authToken  = "drilltoken0123456789"
	// from is a short code: 100 messages a second, so that the provider's
	// rate is not what a drill measures.
	from = "55501"
	// cadence has one SMS step on the due date at local midnight: it is due
	// as soon as the account is, all day long in the borrower's zone.
	cadence = `name: ` + cadenceName + `
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: ` + stepID + `, day: 0, at: "00:00", channel: sms, template: due_sms}
`
)

// cadenceFor is the drill's cadence: one SMS step, or with voice one call
// (the late_voice conversation) instead.
func cadenceFor(voice bool) string {
	if !voice {
		return cadence
	}
	return strings.Replace(cadence, "{id: "+stepID+`, day: 0, at: "00:00", channel: sms, template: due_sms}`,
		"{id: "+voiceStepID+`, day: 0, at: "00:00", channel: voice, template: late_voice}`, 1)
}

// env is one drill's world: a database, a Redis, a simulated Twilio, the
// nudge processes and their config.
type env struct {
	opts  Options
	name  string
	dir   string
	clock nudge.Clock

	// dbURL is the processes' database; directURL is the drill's own way
	// in (they differ when a proxy sits between).
	dbURL, directURL string
	// dbName is the drill's PostgreSQL database ("" on SQLite).
	dbName    string
	db        *store.DB
	q         *queue
	proxy     *Proxy
	sim       *twiliosim.Sim
	sink      *http.Server
	publicURL string
	apiAddr   string
	cfgPath   string
	zone      string
	today     nudge.Date
	accounts  []nudge.Account
	// accountsB are lenderB's accounts (ec.lenderB of them).
	accountsB []nudge.Account
	// held are the accounts kept back by envConfig.holdBack.
	held []nudge.Account
	ec   envConfig

	cleanups []func()

	mu      sync.Mutex
	procs   []*proc
	exits   []string
	started int
}

// envConfig says what a drill's world needs.
type envConfig struct {
	sim twiliosim.Config
	// ownRedis requires a redis-server the drill can restart.
	ownRedis bool
	// topology, when set, starts a Sentinel set or a Cluster of
	// redis-server processes (topologySentinel, topologyCluster).
	topology string
	// proxyDB puts a cuttable TCP proxy between the processes and PostgreSQL.
	proxyDB bool
	// killableDB needs PostgreSQL, whose connections the drill kills.
	killableDB bool
	// api runs an api process that receives the simulator's webhooks.
	api bool
	// lenderB, when above zero, adds a second lender (lenderB) with that
	// many accounts due at the same instant as the first lender's.
	lenderB int
	// holdBack, when above zero, keeps the last holdBack of the accounts
	// out of the database at the start; the drill stores them later
	// (seedHeld).
	holdBack int
	// twilio is more YAML under the processes' twilio key (two-space
	// indented lines).
	twilio string
	// voice makes the one step a call to the accounts' voice contacts
	// instead of an SMS.
	voice bool
}

// errSkip marks a drill that cannot run here; its message says why.
type errSkip struct{ why string }

func (e errSkip) Error() string { return "skipped: " + e.why }

// newEnv builds the world of drill name and seeds its accounts.
func newEnv(ctx context.Context, opts Options, name string, ec envConfig) (e *env, err error) {
	e = &env{opts: opts, name: name, clock: opts.Clock, ec: ec}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	e.dir = filepath.Join(opts.Dir, name)
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return nil, fmt.Errorf("drill dir: %w", err)
	}
	e.zone, e.today = middayZone(e.clock.Now())

	if ec.killableDB && opts.Database == "" {
		return nil, errSkip{why: "it kills PostgreSQL connections, which needs PostgreSQL (--database or NUDGE_TEST_DATABASE_URL)"}
	}
	if err := e.openDatabase(ctx, ec.proxyDB); err != nil {
		return nil, err
	}
	if ec.topology != "" {
		bin, err := findRedisServer(opts.RedisServer)
		if err != nil {
			return nil, errSkip{why: "it starts a Redis " + ec.topology + " of its own and " + err.Error()}
		}
		if e.q, err = newSetQueue(ctx, ec.topology, bin, e.dir); err != nil {
			return nil, err
		}
	} else if err := e.openQueue(ctx, ec.ownRedis); err != nil {
		return nil, err
	}
	e.cleanups = append(e.cleanups, e.q.Close)

	sc := ec.sim
	sc.AccountSID, sc.AuthToken = accountSID, authToken
	if sc.Speed == 0 {
		sc.Speed = 100
	}
	if sc.Mix == nil {
		sc.Mix = []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}
	}
	e.sim = twiliosim.New(sc)
	if err := e.sim.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	e.cleanups = append(e.cleanups, func() { _ = e.sim.Close() })

	if ec.api {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		e.apiAddr = fmt.Sprintf("127.0.0.1:%d", port)
		e.publicURL = "http://" + e.apiAddr
	} else if err := e.startSink(); err != nil {
		return nil, err
	}
	if err := e.writeConfig(); err != nil {
		return nil, err
	}
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// openQueue opens the drill's single Redis: the shared one of the options,
// or a redis-server of its own (required when own is set), or miniredis.
func (e *env) openQueue(ctx context.Context, own bool) error {
	addr, bin := e.opts.RedisAddr, ""
	if own || (addr == "" && !e.opts.Miniredis) {
		addr = ""
		var err error
		if bin, err = findRedisServer(e.opts.RedisServer); err != nil && own {
			return errSkip{why: "it restarts its own redis-server and " + err.Error()}
		}
	}
	var err error
	e.q, err = newQueue(ctx, addr, e.opts.RedisDB, bin, e.dir)
	return err
}

// middayZone returns an Etc/GMT zone in which the wall clock shows between
// 13:00 and 14:00 at now (inside every allowed window), and the date there.
func middayZone(now time.Time) (string, nudge.Date) {
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
		panic(fmt.Sprintf("drill: zone %s: %v", name, err)) // the Etc zones are in time/tzdata
	}
	return name, nudge.DateOf(now.In(loc))
}

// openDatabase creates a fresh PostgreSQL database from the admin URL (and
// a proxy to it when asked), or a SQLite file when there is none.
func (e *env) openDatabase(ctx context.Context, proxy bool) error {
	admin := e.opts.Database
	if admin == "" {
		if proxy {
			return errSkip{why: "it cuts the database off behind a TCP proxy, which needs PostgreSQL (--database or NUDGE_TEST_DATABASE_URL); SQLite is a file"}
		}
		e.dbURL = "sqlite://" + filepath.Join(e.dir, "nudge.db")
		e.directURL = e.dbURL
		return e.connect(ctx)
	}
	dsn, drop, err := FreshDatabase(ctx, admin, 4)
	if err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, drop)
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	e.dbName = strings.TrimPrefix(u.Path, "/")
	e.directURL = dsn
	e.dbURL = dsn
	if proxy {
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "5432")
		}
		p, err := NewProxy(host)
		if err != nil {
			return err
		}
		e.cleanups = append(e.cleanups, func() { _ = p.Close() })
		e.proxy = p
		pu := *u
		pu.Host = p.Addr()
		e.dbURL = pu.String()
	}
	return e.connect(ctx)
}

// FreshDatabase creates an empty database named nudge_drill_<random> on the
// PostgreSQL server of the admin URL and returns its URL, with a pool of
// poolMax connections, and a function that drops it.
func FreshDatabase(ctx context.Context, admin string, poolMax int) (dsn string, drop func(), err error) {
	dsn, dropDB, err := store.CreateDatabase(ctx, admin, "nudge_drill_")
	if err != nil {
		return "", nil, fmt.Errorf("database: %w", err)
	}
	drop = func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = dropDB(dctx) // best effort at teardown
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("database URL: %w", err)
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(poolMax))
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// connect opens the drill's own connection and migrates the schema.
func (e *env) connect(ctx context.Context) error {
	db, err := store.Open(ctx, e.directURL)
	if err != nil {
		return err
	}
	e.db = db
	e.cleanups = append(e.cleanups, func() { _ = db.Close() })
	return db.Migrate(ctx)
}

// killConnections terminates every connection to the drill's database but
// the killer's own (the processes', and the drill's own pool, which
// reconnects), as an administrator or a failover would, and returns how many.
func (e *env) killConnections(ctx context.Context) (int, error) {
	conn, err := sql.Open("pgx", e.opts.Database)
	if err != nil {
		return 0, fmt.Errorf("database: %w", err)
	}
	defer conn.Close()
	var n int
	err = conn.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()) AS killed`, e.dbName).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("killing connections to %s: %w", e.dbName, err)
	}
	return n, nil
}

// startSink serves a sink for the simulator's status callbacks when no api
// process receives them.
func (e *env) startSink() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("callback sink: %w", err)
	}
	e.sink = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = e.sink.Serve(ln) }() // ErrServerClosed at teardown
	e.cleanups = append(e.cleanups, func() { _ = e.sink.Close() })
	e.publicURL = "http://" + ln.Addr().String()
	return nil
}

// writeConfig writes the processes' YAML config and the cadence file.
func (e *env) writeConfig() error {
	cadencePath := filepath.Join(e.dir, "cadence.yaml")
	if err := os.WriteFile(cadencePath, []byte(cadenceFor(e.ec.voice)), 0o600); err != nil {
		return fmt.Errorf("cadence file: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	addr := e.apiAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	second := ""
	if e.ec.lenderB > 0 {
		second = fmt.Sprintf(`  - id: %s
    name: Second Drill Auto
    language: en
    timezone: America/New_York
    help_phone: "+18005550102"
    agent_phone: "+18005550103"
    cadences: [%q]
`, lenderB, cadencePath)
	}
	cfg := fmt.Sprintf(`database: %q
addr: %q
public_url: %q
secret: %q
%sscheduler:
  spec: "@every 1s"
reconcile:
  every: 1s
  settle: %s
worker:
  concurrency: %d
  shutdown_timeout: 3s
  discover_every: 1s
lenders:
  - id: %s
    name: Drill Auto Finance
    language: en
    timezone: America/New_York
    help_phone: "+18005550100"
    agent_phone: "+18005550101"
    cadences: [%q]
%stwilio:
  account_sid: %s
  auth_token: %s
  from: %q
  base_url: %q
  voice_from: "+18005550199"
  timeout: %s
%slog:
  level: info
  format: json
`, e.dbURL, addr, e.publicURL, hex.EncodeToString(b[:]), e.q.configYAML(), reconcileSettle, e.opts.Concurrency, lender, cadencePath,
		second, accountSID, authToken, from, e.sim.URL(), providerTimeout, e.ec.twilio)
	if e.ec.voice {
		// A lender whose cadences call names the person a voicemail asks
		// to call back (12 CFR 1006.2(j)).
		cfg = strings.ReplaceAll(cfg, "    cadences: [", "    voicemail_caller_name: Sam Rivera\n    cadences: [")
	}
	e.cfgPath = filepath.Join(e.dir, "nudge.yaml")
	return os.WriteFile(e.cfgPath, []byte(cfg), 0o600)
}

// number is account i's phone number: toll-free, so that it places the
// borrower in no time zone and the stated zone alone decides the window.
// Numbers run from +18002000000 (up to MaxFairnessReminders of them).
func number(i int) string { return fmt.Sprintf("+1800%07d", 2000000+i) }

// numberB is the phone number of lenderB's account i, apart from the
// first lender's numbers.
func numberB(i int) string { return fmt.Sprintf("+1800%07d", 9000000+i) }

// seed stores the lenders and the accounts, all due today in e.zone.
func (e *env) seed(ctx context.Context) error {
	now := e.clock.Now().UTC()
	if err := e.db.UpsertLender(ctx, nudge.Lender{ID: lender, Name: "Drill Auto Finance", Language: "en",
		Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101", CreatedAt: now}); err != nil {
		return err
	}
	e.accounts = e.dueAccounts(lender, "D", e.opts.Reminders, number)
	stored := e.accounts
	if h := e.ec.holdBack; h > 0 && h < len(stored) {
		stored, e.held = stored[:len(stored)-h], stored[len(stored)-h:]
	}
	if err := e.db.UpsertAccounts(ctx, stored, now.Add(-time.Second)); err != nil {
		return err
	}
	if e.ec.lenderB == 0 {
		return nil
	}
	if err := e.db.UpsertLender(ctx, nudge.Lender{ID: lenderB, Name: "Second Drill Auto", Language: "en",
		Timezone: "America/New_York", HelpPhone: "+18005550102", AgentPhone: "+18005550103", CreatedAt: now}); err != nil {
		return err
	}
	e.accountsB = e.dueAccounts(lenderB, "B", e.ec.lenderB, numberB)
	return e.db.UpsertAccounts(ctx, e.accountsB, now.Add(-time.Second))
}

// seedHeld stores the accounts kept back by envConfig.holdBack, due now.
func (e *env) seedHeld(ctx context.Context) error {
	if len(e.held) == 0 {
		return nil
	}
	return e.db.UpsertAccounts(ctx, e.held, e.clock.Now().UTC().Add(-time.Second))
}

// dueAccounts returns n accounts of lender due today in e.zone, with ids
// prefix-00000 on and phone numbers from num.
func (e *env) dueAccounts(lender, prefix string, n int, num func(int) string) []nudge.Account {
	out := make([]nudge.Account, n)
	channel := nudge.SMS
	if e.ec.voice {
		channel = nudge.Voice
	}
	for i := range out {
		out[i] = nudge.Account{
			ID: fmt.Sprintf("%s-%05d", prefix, i), Lender: lender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Borrower %d", i), Language: "en", Timezone: e.zone},
			Contacts: []nudge.Contact{{Channel: channel, Address: num(i), Consent: true}},
			Currency: "USD", AmountDue: "250.00", DueDate: e.today, Status: nudge.StatusActive,
		}
	}
	return out
}

// proc is one nudge process.
type proc struct {
	name    string
	role    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
	// started is when the process was started.
	started time.Time
	// ended is set when the drill ended the process on purpose.
	ended bool
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start runs `nudge <role> --config <cfg>` as a child process.
func (e *env) start(role string) (*proc, error) {
	e.mu.Lock()
	e.started++
	name := fmt.Sprintf("%s-%d", role, e.started)
	e.mu.Unlock()
	logPath := filepath.Join(e.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("process log: %w", err)
	}
	cmd := exec.Command(e.opts.Exe, role, "--config", e.cfgPath)
	// The child reads only the config file: NUDGE_* settings of the
	// drill's own environment must not reach it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NUDGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, e.opts.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, role: role, cmd: cmd, logPath: logPath, done: make(chan struct{}), started: time.Now()}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

// roleCount is how many processes of a role a drill runs.
type roleCount struct {
	role string
	n    int
}

// startAll starts the processes of every role.
func (e *env) startAll(roles []roleCount) error {
	for _, rc := range roles {
		for range rc.n {
			if _, err := e.start(rc.role); err != nil {
				return err
			}
		}
	}
	return nil
}

// live returns the running processes of role.
func (e *env) live(role string) []*proc {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*proc
	for _, p := range e.procs {
		if p.role == role && !p.exited() && !p.ended {
			out = append(out, p)
		}
	}
	return out
}

// kill ends p with SIGKILL, as a crash would, and waits for it.
func (e *env) kill(p *proc) error {
	e.mu.Lock()
	p.ended = true
	e.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("process %s survived SIGKILL", p.name)
	}
}

// stop ends p with SIGTERM, and SIGKILL if it has not exited in 15 s.
func (e *env) stop(p *proc) {
	e.mu.Lock()
	p.ended = true
	e.mu.Unlock()
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// maxExits is how many times processes may exit by themselves before a
// drill gives up.
const maxExits = 10

// reviveExited restarts every process that exited without the drill
// ending it, and records each such exit (a process must survive what the
// drills do to its surroundings).
func (e *env) reviveExited() error {
	e.mu.Lock()
	var dead []*proc
	for _, p := range e.procs {
		if !p.ended && p.exited() {
			p.ended = true
			dead = append(dead, p)
			e.exits = append(e.exits, fmt.Sprintf("%s exited by itself (%v); last log line: %s", p.name, p.waitErr, lastLine(p.logPath)))
		}
	}
	tooMany := len(e.exits) > maxExits
	e.mu.Unlock()
	if tooMany {
		return fmt.Errorf("processes exited by themselves %d times; the last: %s", len(e.exits), e.exits[len(e.exits)-1])
	}
	for _, p := range dead {
		if _, err := e.start(p.role); err != nil {
			return err
		}
	}
	return nil
}

// lastLine returns the last non-empty line of the file at path.
func lastLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}

// stopAll stops every process still running.
func (e *env) stopAll() {
	e.mu.Lock()
	procs := append([]*proc(nil), e.procs...)
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { e.stop(p) })
	}
	wg.Wait()
}

// close stops the processes and releases everything, newest first.
func (e *env) close() {
	e.stopAll()
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}
