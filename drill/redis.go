package drill

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// queue is the Redis work queue of a drill: a Redis the drill can (when it
// owns the server) restart, plus a client on the drill's database.
type queue struct {
	addr string
	db   int
	rdb  redis.UniversalClient
	// own is the redis-server the drill started, if any.
	own *redisServer
	// set is the Sentinel or Cluster deployment the drill started, if any.
	set *redisSet
	// close releases what the queue holds.
	close func()
}

// newQueue returns the drill's Redis: database db of addr when addr is set
// (flushed before and after), else a redis-server started from bin in dir
// when bin is set, else an in-process miniredis on TCP.
func newQueue(ctx context.Context, addr string, db int, bin, dir string) (*queue, error) {
	q := &queue{addr: addr, db: db}
	switch {
	case addr != "":
		q.close = func() {}
	case bin != "":
		srv, err := startRedisServer(ctx, bin, dir)
		if err != nil {
			return nil, err
		}
		q.own, q.addr, q.db = srv, srv.addr(), 0
		q.close = srv.stop
	default:
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, fmt.Errorf("miniredis: %w", err)
		}
		stop := followClock(mr)
		q.addr, q.db = mr.Addr(), 0
		q.close = func() {
			stop()
			mr.Close()
		}
	}
	q.rdb = redis.NewClient(&redis.Options{Addr: q.addr, DB: q.db})
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		q.Close()
		return nil, fmt.Errorf("redis at %s: %w", q.addr, err)
	}
	if err := q.rdb.FlushDB(ctx).Err(); err != nil {
		q.Close()
		return nil, fmt.Errorf("redis at %s: flushing database %d: %w", q.addr, q.db, err)
	}
	return q, nil
}

// newSetQueue returns the drill's Redis as a deployment of kind
// (topologySentinel or topologyCluster) started from bin in dir.
func newSetQueue(ctx context.Context, kind, bin, dir string) (*queue, error) {
	set, err := startRedisSet(ctx, kind, bin, filepath.Join(dir, kind))
	if err != nil {
		return nil, err
	}
	q := &queue{set: set, rdb: set.client(), close: set.stop}
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		q.Close()
		return nil, fmt.Errorf("redis %s: %w", kind, err)
	}
	return q, nil
}

// configYAML is the processes' redis section.
func (q *queue) configYAML() string {
	if q.set != nil {
		return q.set.configYAML()
	}
	return fmt.Sprintf("redis:\n  addr: %q\n  db: %d\n", q.addr, q.db)
}

// Close flushes the drill's database (when shared) and releases the queue.
func (q *queue) Close() {
	if q.own == nil && q.set == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = q.rdb.FlushDB(ctx).Err() // best effort: the next drill flushes too
		cancel()
	}
	_ = q.rdb.Close()
	q.close()
}

// followClock makes mr's TTLs follow the wall clock, as a real Redis does.
func followClock(mr *miniredis.Miniredis) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mr.FastForward(250 * time.Millisecond)
			}
		}
	}()
	return func() { close(done) }
}

// redisServer is a redis-server process the drill owns: no snapshots, an
// append-only file in dir (so a restart keeps the queue), noeviction, and
// args (a replica's, a sentinel's or a cluster node's settings).
type redisServer struct {
	bin, dir string
	port     int
	// args are added to the command line, or with sentinel set are the
	// lines of the sentinel's configuration file.
	args     []string
	sentinel bool
	cmd      *exec.Cmd
	done     chan struct{}
}

// freePort returns a TCP port nothing listens on at the moment.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startRedisServer(ctx context.Context, bin, dir string, args ...string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &redisServer{bin: bin, dir: filepath.Join(dir, "redis"), port: port, args: args}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("redis dir: %w", err)
	}
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// launch starts the server on its port and waits until it answers.
func (s *redisServer) launch(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("redis log: %w", err)
	}
	var args []string
	if s.sentinel {
		// A sentinel's configuration file comes first; it rewrites it.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(strings.Join(s.args, "\n")+"\n"), 0o600); err != nil {
			logFile.Close()
			return fmt.Errorf("sentinel config: %w", err)
		}
		args = []string{conf, "--sentinel"}
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir)
	if !s.sentinel {
		args = append(args, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction")
		args = append(args, s.args...)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() {
		_ = cmd.Wait() // how it ended is in redis.log
		logFile.Close()
		close(done)
	}()
	rdb := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start (see %s)", s.port, filepath.Join(s.dir, "redis.log"))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return fmt.Errorf("redis-server on port %d does not answer: %w", s.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// halt ends the server with sig and waits for it.
func (s *redisServer) halt(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// stop ends the server for good.
func (s *redisServer) stop() { s.halt(syscall.SIGTERM) }

// restart stops the server (SIGKILL when crash is set, else SIGTERM), keeps
// it down for downFor, and starts it again on the same port from its
// append-only file.
func (s *redisServer) restart(ctx context.Context, crash bool, downFor time.Duration) error {
	sig := syscall.SIGTERM
	if crash {
		sig = syscall.SIGKILL
	}
	s.halt(sig)
	select {
	case <-time.After(downFor):
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	for range 20 { // the port can stay busy for a moment after the old server
		if err = s.launch(ctx); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("restarting redis-server: %w", err)
}

// errNoRedisServer means no redis-server binary was found.
var errNoRedisServer = errors.New("no redis-server binary found in PATH")

// findRedisServer returns bin when set, else redis-server from PATH.
func findRedisServer(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errNoRedisServer
	}
	return p, nil
}
