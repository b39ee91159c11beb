package bench

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"runtime"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Machine describes where a run happened.
type Machine struct {
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	Memory   string `json:"memory"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	Redis    string `json:"redis"`
	Database string `json:"database"`
	// Autovacuum is PostgreSQL's autovacuum setting ("on" or "off").
	Autovacuum string `json:"autovacuum,omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// describeMachine reads the CPU, memory, kernel and server versions; pg is
// the PostgreSQL database's own connection (nil on SQLite).
func describeMachine(ctx context.Context, rdb *redis.Client, pg *sql.DB) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: procField("/proc/cpuinfo", "model name"),
		Memory: procField("/proc/meminfo", "MemTotal"), LoadBefore: loadAvg()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if info, err := rdb.Info(ctx, "server").Result(); err == nil {
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				m.Redis = "Redis " + v
			}
		}
	}
	if m.Redis == "" {
		m.Redis = "unknown Redis"
	}
	m.Database = "SQLite (modernc.org/sqlite, WAL)"
	if pg != nil {
		m.Database = "PostgreSQL"
		var v string
		if pg.QueryRowContext(ctx, "SHOW server_version").Scan(&v) == nil {
			m.Database = "PostgreSQL " + v
		}
		if pg.QueryRowContext(ctx, "SHOW autovacuum").Scan(&v) == nil {
			m.Autovacuum = v
		}
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
