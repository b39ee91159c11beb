package drill

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// echoServer answers every line it reads with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends line through a new connection to addr and reads the answer.
func roundTrip(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyCutsAndRestores(t *testing.T) {
	t.Parallel()
	p, err := NewProxy(echoServer(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })

	got, err := roundTrip(p.Addr(), "hello")
	require.NoError(t, err)
	require.Equal(t, "hello\n", got)

	// An open connection is dropped when the proxy goes down.
	open, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer open.Close()
	_, err = io.WriteString(open, "before\n")
	require.NoError(t, err)
	r := bufio.NewReader(open)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "before\n", line)
	p.SetDown(true)
	_ = open.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = r.ReadString('\n')
	require.ErrorIs(t, err, io.EOF, "the proxy closed the open connection")

	_, err = roundTrip(p.Addr(), "while down")
	require.Error(t, err, "a new connection is closed while the proxy is down")

	p.SetDown(false)
	got, err = roundTrip(p.Addr(), "again")
	require.NoError(t, err)
	require.Equal(t, "again\n", got)
}

func TestAgeStaleLeases(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	key := "asynq:{sms}:lease"
	tests := []struct {
		name    string
		expires time.Time
		aged    bool
	}{
		{"extended just now by a live worker", now.Add(30 * time.Second), false},
		{"extended five seconds ago", now.Add(25 * time.Second), false},
		{"not extended for fifteen seconds", now.Add(15 * time.Second), true},
		{"already expired", now.Add(-time.Second), true},
	}
	for _, tc := range tests {
		require.NoError(t, rdb.ZAdd(ctx, key, redis.Z{Score: float64(tc.expires.Unix()), Member: tc.name}).Err())
	}
	ids, err := ageStaleLeases(ctx, rdb, "sms", now)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"not extended for fifteen seconds", "already expired"}, ids)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, err := rdb.ZScore(ctx, key, tc.name).Result()
			require.NoError(t, err)
			if tc.aged {
				require.Equal(t, float64(now.Add(-2*time.Minute).Unix()), score)
			} else {
				require.Equal(t, float64(tc.expires.Unix()), score)
			}
		})
	}
}

func TestRedisServerRestartKeepsData(t *testing.T) {
	t.Parallel()
	bin, err := findRedisServer("")
	if err != nil {
		if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but redis-server is not installed")
		}
		t.Skip(err)
	}
	ctx := context.Background()
	q, err := newQueue(ctx, "", 0, bin, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(q.Close)
	require.NoError(t, q.rdb.Set(ctx, "task", "queued", 0).Err())
	require.NoError(t, q.own.restart(ctx, true, 0))
	got, err := q.rdb.Get(ctx, "task").Result()
	require.NoError(t, err, "the append-only file survives a SIGKILL")
	require.Equal(t, "queued", got)
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, []Result{
		{Name: "worker-kill", Reminders: 200, Sent: 197, Unknown: 3, ProviderCalls: 200, MaxCalls: 1,
			Duration: 12345 * time.Millisecond, Chaos: "5 workers killed", UnknownIDs: []string{"rem_a", "rem_b", "rem_c"},
			Problems: []string{"3 reminders left unknown after reconciliation"}},
		{Name: "db-outage", Reminders: 200, Skipped: "needs PostgreSQL"},
		{Name: "replicas", Reminders: 200, Sent: 199, Lost: 1, Problems: []string{"reminder of D-00007 is still queued"}},
		{Name: "provider-faults", Reminders: 200, Sent: 200, ProviderCalls: 212, Injected: 12, AnswersLost: 9, MaxCalls: 3,
			Duration: 2 * time.Second},
	}))
	out := b.String()
	lines := strings.Split(out, "\n")
	for _, col := range []string{"sent twice", "never sent", "unknown", "failed transient", "refused", "answers lost"} {
		require.Contains(t, lines[0], col)
	}
	require.Regexp(t, `worker-kill\s+200\s+197\s+0\s+0\s+3\s+0\s+0\s+0\s+200\s+0\s+0\s+1\s+12.3s\s+FAIL`, lines[1])
	require.Regexp(t, `db-outage\s+200(\s+-){12}\s+skipped`, lines[2])
	require.Regexp(t, `replicas\s+200\s+199\s.*FAIL`, lines[3])
	require.Regexp(t, `provider-faults\s+200\s+200\s+0\s+0\s+0\s+0\s+0\s+0\s+212\s+12\s+9\s+3\s+2s\s+ok`, lines[4])
	require.Contains(t, out, "left unknown after reconciliation: rem_a, rem_b, rem_c")
	require.Contains(t, out, "db-outage: skipped: needs PostgreSQL")
	require.Contains(t, out, "PROBLEM: reminder of D-00007 is still queued")
}

func TestRunRefusesBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  Options
		names []string
		want  string
	}{
		{"no binary", Options{}, nil, "Exe"},
		{"unknown drill", Options{Exe: "nudge"}, []string{"earthquake"}, `no drill "earthquake"`},
		{"too many reminders", Options{Exe: "nudge", Reminders: 20000}, nil, "at most 10000"},
		{"burst beyond the retries", Options{Exe: "nudge", Burst: MaxProviderCalls}, nil, "retries run out"},
		{"big lender too big", Options{Exe: "nudge", Big: MaxFairnessReminders + 1}, []string{"fairness"}, "big lender's reminders 1000001: at most 1000000"},
		{"small lender too big", Options{Exe: "nudge", Small: 10001}, []string{"fairness"}, "small lender's reminders 10001: at most 10000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(context.Background(), tc.opts, tc.names...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNamesAndTitles(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"worker-kill", "provider-faults", "db-kill", "redis-restart", "db-outage", "provider-bursts", "webhooks", "replicas", "redis-sentinel", "redis-cluster", "fairness", "sender-failover", "sender-failover-voice"}, Names())
	for _, n := range Names() {
		require.NotEmpty(t, Title(n), n)
	}
	require.Empty(t, Title("earthquake"))
}

func TestBurstsMatchInjection(t *testing.T) {
	t.Parallel()
	for i := range 40 {
		switch i % 4 {
		case 0, 2:
			require.Zero(t, bursts(i, 3), "account %d", i)
		default:
			require.Equal(t, 1+(i/4)%3, bursts(i, 3), "account %d", i)
		}
	}
}

// TestFairnessNumbers: the two lenders' numbers never meet, up to the
// most reminders each may have, and the share is counted against the big
// lender's own.
func TestFairnessNumbers(t *testing.T) {
	t.Parallel()
	require.Equal(t, "+18002000007", number(7), "the other drills' numbers are unchanged")
	require.False(t, isNumberB(number(MaxFairnessReminders-1)))
	require.True(t, isNumberB(numberB(0)))
	require.True(t, isNumberB(numberB(9999)))
	require.Less(t, number(MaxFairnessReminders-1), numberB(0))
	require.InDelta(t, 0.0125, Fairness{Big: 4000, BigAtSmallDone: 50}.Share(), 1e-9)
	require.Zero(t, Fairness{}.Share())
}
