package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat CPU times on Linux.
const clockTicks = 100

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/self/status.
func procStatus(field string) (int64, error) { return pidStatus(0, field) }

// pidStatus reads a kB field (VmRSS, VmHWM) of /proc/PID/status, in bytes;
// pid 0 is this process.
func pidStatus(pid int, field string) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s %s: %w", path, field, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// rssSampler records the peak VmRSS of this process while it runs.
type rssSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak int64
}

func startRSS() *rssSampler {
	s := &rssSampler{stop: make(chan struct{})}
	s.sample()
	s.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	})
	return s
}

func (s *rssSampler) sample() {
	v, err := procStatus("VmRSS")
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak = max(s.peak, v)
	s.mu.Unlock()
}

// done stops sampling and returns the peak in bytes.
func (s *rssSampler) done() int64 {
	close(s.stop)
	s.wg.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// cpuSnapshot is CPU time used so far by this process and Redis.
type cpuSnapshot struct {
	self, redis time.Duration
}

func takeCPU(ctx context.Context, rdb *redis.Client) cpuSnapshot {
	var s cpuSnapshot
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.redis = redisCPU(ctx, rdb)
	return s
}

func (s cpuSnapshot) since(before cpuSnapshot) cpuSnapshot {
	return cpuSnapshot{self: s.self - before.self, redis: s.redis - before.redis}
}

// redisCPU is INFO cpu used_cpu_user + used_cpu_sys of the Redis server.
func redisCPU(ctx context.Context, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// processCPU sums user and system CPU time of the processes named comm
// visible in /proc (the PostgreSQL server and its backends).
func processCPU(comm string) time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var ticks int64
	for _, d := range dirs {
		if name, t, ok := statTicks(filepath.Join(d, "stat")); ok && name == comm {
			ticks += t
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// pidCPU is the user and system CPU time of process pid so far (zero when
// it cannot be read).
func pidCPU(pid int) time.Duration {
	_, ticks, _ := statTicks(fmt.Sprintf("/proc/%d/stat", pid))
	return time.Duration(ticks) * time.Second / clockTicks
}

// statTicks reads a /proc/PID/stat file: the process's name and its user
// plus system CPU time in clock ticks.
func statTicks(path string) (comm string, ticks int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, false
	}
	open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return "", 0, false
	}
	f := strings.Fields(string(b[closing+1:]))
	// Fields after the name start at field 3 (state); utime and stime are 14 and 15.
	if len(f) < 13 {
		return "", 0, false
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return string(b[open+1 : closing]), u + st, true
}
