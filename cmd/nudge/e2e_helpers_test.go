package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

// e2eChildEnv, set to 1, makes the test binary run as the nudge command:
// the end-to-end tests start scheduler and worker processes by re-running
// their own binary, so no second build (and no toolchain) is needed.
const e2eChildEnv = "NUDGE_E2E_RUN_AS_NUDGE"

func TestMain(m *testing.M) {
	if os.Getenv(e2eChildEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Redis databases of NUDGE_TEST_REDIS_ADDR owned by the end-to-end tests,
// one per test so that their workers never take each other's tasks (the
// dispatcher's tests use 13, the schedules' 15).
const (
	redisDBReplicas = 11
	redisDBKill     = 12
	redisDBCancel   = 14
)

const (
	e2eLender = "e2e"
	// e2eAccountSID and e2eAuthToken are the simulator's credentials.
	e2eAccountSID = "AC" + "e2e0" + "0000000000000000000000000000"
	e2eAuthToken  = "e2etoken0123456789"
	e2eFrom       = "+18005550199"
	// e2eCadence has one SMS step on the due date at local midnight: it is
	// due as soon as the account is, all day long in the borrower's zone.
	e2eCadence = `name: e2e-due
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-sms, day: 0, at: "00:00", channel: sms, template: due_sms}
`
)

// e2eWait bounds every wait for the processes to reach a state.
const e2eWait = 90 * time.Second

// e2eEnv is one end-to-end test's world: a database, a Redis, a simulated
// Twilio, a sink for its status callbacks, and the nudge processes.
type e2eEnv struct {
	t     *testing.T
	dir   string
	dbURL string
	// db is the test's own connection to the processes' database.
	db        *store.DB
	redisAddr string
	redisDB   int
	rdb       *redis.Client
	sim       *twiliosim.Sim
	hooks     *httptest.Server
	cfgPath   string
	// zone is a fixed-offset zone where the wall clock now shows about
	// 13:00, inside every allowed window; today is the date there.
	zone  string
	today nudge.Date

	mu    sync.Mutex
	procs []*e2eProc
}

// newE2EEnv prepares the services (PostgreSQL or SQLite, Redis or
// miniredis, twiliosim with simCfg) and writes the processes' config.
func newE2EEnv(t *testing.T, redisDB int, simCfg twiliosim.Config) *e2eEnv {
	t.Helper()
	e := &e2eEnv{t: t, dir: t.TempDir(), redisDB: redisDB}
	e.zone, e.today = e2eZone(time.Now())
	e.dbURL = e2eDatabase(t, e.dir)
	ctx := context.Background()
	db, err := store.Open(ctx, e.dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	e.db = db
	e.redisAddr, e.rdb = e2eRedis(t, redisDB)

	simCfg.AccountSID, simCfg.AuthToken = e2eAccountSID, e2eAuthToken
	if simCfg.Speed == 0 {
		simCfg.Speed = 50
	}
	if simCfg.Mix == nil {
		simCfg.Mix = []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}
	}
	e.sim = twiliosim.New(simCfg)
	require.NoError(t, e.sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, e.sim.Close()) })
	e.hooks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(e.hooks.Close)
	e.writeConfig()
	t.Cleanup(e.stopAll)
	return e
}

// e2eZone returns an Etc/GMT zone in which the wall clock shows between
// 13:00 and 14:00 at now, and the date there.
func e2eZone(now time.Time) (string, nudge.Date) {
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
		panic(err)
	}
	return name, nudge.DateOf(now.In(loc))
}

// e2eDatabase returns the URL of a fresh database: one created for the
// test on the PostgreSQL server of NUDGE_TEST_DATABASE_URL (dropped at the
// end), or a SQLite file in dir.
func e2eDatabase(t *testing.T, dir string) string {
	t.Helper()
	admin := os.Getenv("NUDGE_TEST_DATABASE_URL")
	if admin == "" {
		if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_DATABASE_URL is not set")
		}
		return "sqlite://" + filepath.Join(dir, "nudge.db")
	}
	u, err := url.Parse(storetest.PostgresDatabase(t, admin, "nudge_e2e_"))
	require.NoError(t, err)
	q := u.Query()
	q.Set("pool_max_conns", "4")
	u.RawQuery = q.Encode()
	return u.String()
}

// e2eRedis returns the address of an empty Redis database and a client on
// it: database db of NUDGE_TEST_REDIS_ADDR (flushed before and after), or a
// miniredis listening on TCP that follows the wall clock.
func e2eRedis(t *testing.T, db int) (string, *redis.Client) {
	t.Helper()
	ctx := context.Background()
	addr := os.Getenv("NUDGE_TEST_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_REDIS_ADDR is not set")
		}
		mr := miniredis.NewMiniRedis()
		require.NoError(t, mr.Start())
		stop := fastForward(mr)
		t.Cleanup(func() {
			stop()
			mr.Close()
		})
		addr = mr.Addr()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	require.NoError(t, rdb.Ping(ctx).Err(), "Redis at %s must answer", addr)
	require.NoError(t, rdb.FlushDB(ctx).Err())
	t.Cleanup(func() {
		_ = rdb.FlushDB(context.Background()).Err()
		_ = rdb.Close()
	})
	return addr, rdb
}

// writeConfig writes the processes' YAML config and the cadence file.
func (e *e2eEnv) writeConfig() {
	cadence := filepath.Join(e.dir, "e2e-cadence.yaml")
	require.NoError(e.t, os.WriteFile(cadence, []byte(e2eCadence), 0o600))
	var b [32]byte
	_, err := rand.Read(b[:])
	require.NoError(e.t, err)
	cfg := fmt.Sprintf(`database: %q
addr: "127.0.0.1:0"
public_url: %q
secret: %q
redis:
  addr: %q
  db: %d
scheduler:
  spec: "@every 1s"
worker:
  concurrency: 8
  shutdown_timeout: 3s
lenders:
  - id: %s
    name: E2E Auto Finance
    language: en
    timezone: America/New_York
    help_phone: "+18005550100"
    agent_phone: "+18005550101"
    cadences: [%q]
twilio:
  account_sid: %s
  auth_token: %s
  from: %q
  base_url: %q
log:
  level: debug
  format: json
`, e.dbURL, e.hooks.URL, hex.EncodeToString(b[:]), e.redisAddr, e.redisDB, e2eLender, cadence,
		e2eAccountSID, e2eAuthToken, e2eFrom, e.sim.URL())
	e.cfgPath = filepath.Join(e.dir, "nudge.yaml")
	require.NoError(e.t, os.WriteFile(e.cfgPath, []byte(cfg), 0o600))
}

// e2eNumber is account i's phone number: toll-free, so that it places the
// borrower in no time zone and the stated zone alone decides the window.
func e2eNumber(i int) string { return fmt.Sprintf("+1800200%04d", i) }

// seedAccounts stores the lender and n accounts due today in e.zone, each
// with its own number, and returns them.
func (e *e2eEnv) seedAccounts(n int) []nudge.Account {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(e.t, e.db.UpsertLender(ctx, nudge.Lender{ID: e2eLender, Name: "E2E Auto Finance", Language: "en",
		Timezone: "America/New_York", HelpPhone: "+18005550100", AgentPhone: "+18005550101", CreatedAt: now}))
	accts := make([]nudge.Account, n)
	for i := range accts {
		accts[i] = nudge.Account{
			ID: fmt.Sprintf("E2E-%04d", i), Lender: e2eLender, Portfolio: "auto",
			Borrower: nudge.Borrower{Name: fmt.Sprintf("Borrower %d", i), Language: "en", Timezone: e.zone},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: e2eNumber(i), Consent: true}},
			Currency: "USD", AmountDue: "250.00", DueDate: e.today, Status: nudge.StatusActive,
		}
	}
	require.NoError(e.t, e.db.UpsertAccounts(ctx, accts, now.Add(-time.Second)))
	return accts
}

// reminderID is the id of the due-sms reminder of account a.
func (e *e2eEnv) reminderID(a nudge.Account) string {
	return nudge.ReminderKey{Lender: a.Lender, AccountID: a.ID, Cadence: "e2e-due", Step: "due-sms", Cycle: a.DueDate}.ID()
}

// reminders returns the lender's reminders by id.
func (e *e2eEnv) reminders(accts []nudge.Account) map[string]nudge.Reminder {
	e.t.Helper()
	out := map[string]nudge.Reminder{}
	for _, a := range accts {
		rs, err := e.db.ListReminders(context.Background(), a.Lender, a.ID)
		require.NoError(e.t, err)
		for _, r := range rs {
			out[r.ID] = r
		}
	}
	return out
}

// waitFor polls check until it returns nil or e2eWait passes, and fails
// with check's last answer then, or as soon as a process exits uninvited.
func (e *e2eEnv) waitFor(what string, check func() error) {
	e.t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s: %v", e2eWait, what, err)
		}
		for _, p := range e.processes() {
			if p.exited() && !p.killed {
				e.t.Fatalf("waiting for %s: process %s exited early: %v", what, p.name, p.waitErr)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// e2eProc is one nudge process.
type e2eProc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
	killed  bool
}

func (p *e2eProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start runs `nudge <role> --config <cfg>` as a child process named name.
func (e *e2eEnv) start(name, role string) *e2eProc {
	e.t.Helper()
	exe, err := os.Executable()
	require.NoError(e.t, err)
	logPath := filepath.Join(e.dir, name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(e.t, err)
	cmd := exec.Command(exe, role, "--config", e.cfgPath)
	// The child reads only the config file: NUDGE_* settings of the
	// environment running the tests must not reach it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NUDGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, e2eChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(e.t, cmd.Start(), "start %s", name)
	p := &e2eProc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p
}

func (e *e2eEnv) processes() []*e2eProc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*e2eProc(nil), e.procs...)
}

// kill ends p with SIGKILL, as a crash would, and waits for it.
func (e *e2eEnv) kill(p *e2eProc) {
	e.t.Helper()
	p.killed = true
	require.NoError(e.t, p.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		e.t.Fatalf("process %s survived SIGKILL", p.name)
	}
}

// stop ends p with SIGTERM, and SIGKILL if it has not exited in 15 s. It
// reports whether p exited cleanly on SIGTERM.
func (e *e2eEnv) stop(p *e2eProc) bool {
	if p.exited() {
		return false
	}
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitErr == nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

// stopAll stops every process still running and, when the test failed,
// logs the end of each process's output.
func (e *e2eEnv) stopAll() {
	procs := e.processes()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { e.stop(p) })
	}
	wg.Wait()
	if !e.t.Failed() {
		return
	}
	for _, p := range procs {
		e.t.Logf("--- last lines of %s (%v) ---\n%s", p.name, p.waitErr, tail(p.logPath, 30))
	}
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ageLeases makes the leases of every task running on queue look expired
// for long enough that Asynq's recoverer hands them to the next worker at
// its start. Asynq recovers the tasks of a dead worker once their 30 s
// lease has been over for another 30 s, checking every minute; ageing the
// lease stands in for those two minutes of waiting. It returns how many
// leases it aged.
func ageLeases(t *testing.T, rdb *redis.Client, queue string) int {
	t.Helper()
	ctx := context.Background()
	key := "asynq:{" + queue + "}:lease"
	ids, err := rdb.ZRange(ctx, key, 0, -1).Result()
	require.NoError(t, err)
	past := float64(time.Now().Add(-2 * time.Minute).Unix())
	for _, id := range ids {
		require.NoError(t, rdb.ZAddXX(ctx, key, redis.Z{Score: past, Member: id}).Err())
	}
	return len(ids)
}

// errUnfinished marks reminders not yet in a final status.
var errUnfinished = errors.New("reminders not final")

// allFinal reports errUnfinished until every reminder of accts exists and
// is terminal; want is how many reminders there must be.
func (e *e2eEnv) allFinal(accts []nudge.Account, want int) error {
	rs := e.reminders(accts)
	if len(rs) < want {
		return fmt.Errorf("%w: %d of %d planned", errUnfinished, len(rs), want)
	}
	for _, r := range rs {
		if !r.Status.Terminal() {
			return fmt.Errorf("%w: %s is %s", errUnfinished, r.ID, r.Status)
		}
	}
	return nil
}
