package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis deployments of several processes a drill can start.
const (
	topologySentinel = "sentinel"
	topologyCluster  = "cluster"
)

// sentinelMaster is the name the drill's sentinels monitor.
const sentinelMaster = "drill"

// failoverWithin bounds the wait for a deployment to promote a replica.
const failoverWithin = 60 * time.Second

// redisSet is a Redis deployment of several processes the drill owns, on
// loopback: a Sentinel set (a primary, a replica and three sentinels) or a
// Cluster (three primaries with a replica each).
type redisSet struct {
	kind      string
	nodes     []*redisServer // the data nodes
	sentinels []*redisServer
}

// startRedisSet starts a deployment of kind from bin in dir and waits until
// it can fail over: the replicas in sync, and the sentinels (or the cluster's
// nodes) aware of each other.
func startRedisSet(ctx context.Context, kind, bin, dir string) (_ *redisSet, err error) {
	s := &redisSet{kind: kind}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	switch kind {
	case topologySentinel:
		err = s.startSentinels(ctx, bin, dir)
	case topologyCluster:
		err = s.startCluster(ctx, bin, dir)
	default:
		err = fmt.Errorf("unknown Redis topology %q", kind)
	}
	return s, err
}

func (s *redisSet) startSentinels(ctx context.Context, bin, dir string) error {
	primary, err := startRedisServer(ctx, bin, filepath.Join(dir, "primary"), "--repl-diskless-sync-delay", "0")
	if err != nil {
		return err
	}
	s.nodes = append(s.nodes, primary)
	replica, err := startRedisServer(ctx, bin, filepath.Join(dir, "replica"), "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	if err != nil {
		return err
	}
	s.nodes = append(s.nodes, replica)
	if err := waitInSync(ctx, replica); err != nil {
		return err
	}
	for i := range 3 {
		port, err := freePort()
		if err != nil {
			return err
		}
		sn := &redisServer{bin: bin, dir: filepath.Join(dir, fmt.Sprintf("sentinel-%d", i+1), "redis"), port: port, sentinel: true, args: []string{
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", sentinelMaster, primary.port),
			"sentinel down-after-milliseconds " + sentinelMaster + " 1000",
			"sentinel failover-timeout " + sentinelMaster + " 5000",
			"sentinel parallel-syncs " + sentinelMaster + " 1",
		}}
		if err := os.MkdirAll(sn.dir, 0o700); err != nil {
			return fmt.Errorf("sentinel dir: %w", err)
		}
		if err := sn.launch(ctx); err != nil {
			return err
		}
		s.sentinels = append(s.sentinels, sn)
	}
	// Ready when every sentinel knows the replica and the two other sentinels.
	return waitFor(ctx, 30*time.Second, "the sentinels to find the replica and each other", func(ctx context.Context) error {
		for _, sn := range s.sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.addr()})
			replicas, err := c.Replicas(ctx, sentinelMaster).Result()
			if err == nil && len(replicas) < 1 {
				err = errors.New("no replica yet")
			}
			if err == nil {
				var others []map[string]string
				if others, err = c.Sentinels(ctx, sentinelMaster).Result(); err == nil && len(others) < 2 {
					err = fmt.Errorf("%d other sentinels known", len(others))
				}
			}
			c.Close()
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", sn.addr(), err)
			}
		}
		return nil
	})
}

func (s *redisSet) startCluster(ctx context.Context, bin, dir string) error {
	cli, err := exec.LookPath(filepath.Join(filepath.Dir(bin), "redis-cli"))
	if err != nil {
		if cli, err = exec.LookPath("redis-cli"); err != nil {
			return errSkip{why: "it creates a Redis Cluster with redis-cli, which is not installed"}
		}
	}
	addrs := make([]string, 6)
	for i := range addrs {
		n, err := startRedisServer(ctx, bin, filepath.Join(dir, fmt.Sprintf("node-%d", i+1)), "--repl-diskless-sync-delay", "0",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000")
		if err != nil {
			return err
		}
		s.nodes = append(s.nodes, n)
		addrs[i] = n.addr()
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	err = waitFor(ctx, 30*time.Second, "the cluster to be ok on every node", func(ctx context.Context) error {
		for _, n := range s.nodes {
			c := redis.NewClient(&redis.Options{Addr: n.addr()})
			info, err := c.ClusterInfo(ctx).Result()
			c.Close()
			if err == nil && !strings.Contains(info, "cluster_state:ok") {
				err = errors.New("cluster_state is not ok")
			}
			if err != nil {
				return fmt.Errorf("node %s: %w", n.addr(), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range s.nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		info, err := c.Info(ctx, "replication").Result()
		c.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.addr(), err)
		}
		if strings.Contains(info, "role:slave") {
			if err := waitInSync(ctx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitInSync waits until replica has loaded its primary's data and follows
// its stream (a promotion before that would start from nothing).
func waitInSync(ctx context.Context, replica *redisServer) error {
	return waitFor(ctx, 30*time.Second, "replica "+replica.addr()+" to sync", func(ctx context.Context) error {
		c := redis.NewClient(&redis.Options{Addr: replica.addr()})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err == nil && !strings.Contains(info, "master_link_status:up") {
			err = errors.New("master_link_status is not up")
		}
		return err
	})
}

// client returns a client of the deployment, as Nudge's processes connect.
func (s *redisSet) client() redis.UniversalClient {
	if s.kind == topologySentinel {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: sentinelMaster, SentinelAddrs: s.addrs(s.sentinels)})
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: s.addrs(s.nodes)})
}

// configYAML is the processes' redis section for the deployment.
func (s *redisSet) configYAML() string {
	if s.kind == topologySentinel {
		return fmt.Sprintf("redis:\n  sentinel_master: %s\n  sentinel_addrs: [%s]\n", sentinelMaster, strings.Join(s.addrs(s.sentinels), ", "))
	}
	return fmt.Sprintf("redis:\n  cluster_addrs: [%s]\n", strings.Join(s.addrs(s.nodes), ", "))
}

func (s *redisSet) addrs(servers []*redisServer) []string {
	out := make([]string, len(servers))
	for i, sv := range servers {
		out[i] = sv.addr()
	}
	return out
}

// stop ends every process of the deployment.
func (s *redisSet) stop() {
	for _, sv := range append(append([]*redisServer(nil), s.sentinels...), s.nodes...) {
		sv.stop()
	}
}

// killPrimary kills with SIGKILL the primary that holds the reminder
// queues (for a Cluster, the node serving the slot of queue's keys), waits
// until a replica has taken its place and answers writes, and returns the
// killed node's address and how long the promotion took.
func (s *redisSet) killPrimary(ctx context.Context, queue string) (string, time.Duration, error) {
	old, err := s.primaryOf(ctx, queue)
	if err != nil {
		return "", 0, err
	}
	killed := false
	for _, n := range s.nodes {
		if n.addr() == old {
			n.halt(syscall.SIGKILL)
			killed = true
		}
	}
	if !killed {
		return "", 0, fmt.Errorf("the primary %s is not one of the drill's nodes", old)
	}
	start := time.Now()
	err = waitFor(ctx, failoverWithin, "a replica to replace the killed primary "+old, func(ctx context.Context) error {
		now, err := s.primaryOf(ctx, queue)
		if err != nil {
			return err
		}
		if now == old {
			return errors.New("not promoted yet")
		}
		c := redis.NewClient(&redis.Options{Addr: now})
		defer c.Close()
		return c.Set(ctx, "{"+queue+"}:drill:failover", start.String(), time.Minute).Err()
	})
	return old, time.Since(start), err
}

// primaryOf is the address of the primary serving queue's keys.
func (s *redisSet) primaryOf(ctx context.Context, queue string) (string, error) {
	if s.kind == topologySentinel {
		var last error
		for _, sn := range s.sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.addr()})
			addr, err := c.GetMasterAddrByName(ctx, sentinelMaster).Result()
			c.Close()
			if err == nil && len(addr) == 2 {
				return addr[0] + ":" + addr[1], nil
			}
			last = err
		}
		return "", fmt.Errorf("no sentinel names the primary: %w", last)
	}
	var last error
	for _, n := range s.nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr(), MaxRetries: -1})
		slot, err := c.ClusterKeySlot(ctx, "asynq:{"+queue+"}:pending").Result()
		var shards []redis.ClusterShard
		if err == nil {
			shards, err = c.ClusterShards(ctx).Result()
		}
		c.Close()
		if err != nil {
			last = err
			continue
		}
		for _, sh := range shards {
			for _, r := range sh.Slots {
				if r.Start > slot || slot > r.End {
					continue
				}
				for _, nd := range sh.Nodes {
					if nd.Role == "master" && nd.Health == "online" {
						return fmt.Sprintf("%s:%d", nd.IP, nd.Port), nil
					}
				}
			}
		}
		last = fmt.Errorf("node %s: no node serves slot %d", n.addr(), slot)
	}
	return "", fmt.Errorf("no cluster node names the queue's primary: %w", last)
}

// waitFor calls check every 100 ms until it returns nil, for at most within.
func waitFor(ctx context.Context, within time.Duration, what string, check func(context.Context) error) error {
	deadline := time.Now().Add(within)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s: %w", within, what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
