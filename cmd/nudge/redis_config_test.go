package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	o, err := RedisConfig{Addr: "10.0.0.1:6379", DB: 3}.Options()
	require.NoError(t, err)
	require.Equal(t, []string{"10.0.0.1:6379"}, o.Addrs)
	require.Equal(t, 3, o.DB)
	require.False(t, o.IsClusterMode)

	o, err = RedisConfig{SentinelMaster: "nudge", SentinelAddrs: []string{"s1:26379", "s2:26379"}, SentinelPassword: "pw"}.Options()
	require.NoError(t, err)
	require.Equal(t, []string{"s1:26379", "s2:26379"}, o.Addrs)
	require.Equal(t, "nudge", o.MasterName)
	require.Equal(t, "pw", o.SentinelPassword)

	o, err = RedisConfig{ClusterAddrs: []string{"n1:7000", "n2:7000"}}.Options()
	require.NoError(t, err)
	require.True(t, o.IsClusterMode)
	require.Equal(t, []string{"n1:7000", "n2:7000"}, o.Addrs)

	for _, tc := range []struct {
		cfg  RedisConfig
		want string
	}{
		{RedisConfig{}, "no Redis configured"},
		{RedisConfig{Addr: "r:6379", ClusterAddrs: []string{"n1:7000"}}, "set one of redis.addr, redis.sentinel_addrs and redis.cluster_addrs"},
		{RedisConfig{SentinelAddrs: []string{"s1:26379"}}, "redis.sentinel_master: required"},
		{RedisConfig{Addr: "r:6379", SentinelMaster: "nudge"}, "redis.sentinel_addrs: required"},
		{RedisConfig{ClusterAddrs: []string{"n1:7000"}, DB: 2}, "redis.db is 2: Redis Cluster has only database 0"},
		{RedisConfig{ClusterAddrs: []string{"n1:7000", "n2"}}, `redis.cluster_addrs[1]: "n2" is not host:port`},
	} {
		_, err := tc.cfg.Options()
		require.ErrorContains(t, err, tc.want, "%+v", tc.cfg)
	}
}
