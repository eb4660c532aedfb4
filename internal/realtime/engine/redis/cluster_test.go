package redis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spindle-rt/spindle/internal/testredis"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/enginetest"
)

// startCluster starts three masters and joins them into a Redis Cluster,
// or skips the test when that cannot be done quickly.
func startCluster(t *testing.T) []string {
	t.Helper()
	testredis.Require(t)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not on PATH: cannot create a Redis Cluster")
	}
	var addrs []string
	for range 3 {
		s := testredis.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		addrs = append(addrs, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot create a Redis Cluster: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			info, err := clusterInfo(a)
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Skipf("cluster did not become ready: %v %s", err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// clusterInfo runs CLUSTER INFO through redis-cli (the reply is a bulk
// string the raw helper does not read).
func clusterInfo(addr string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
	return string(out), err
}

func TestClusterContract(t *testing.T) {
	addrs := startCluster(t)
	probe := newTestEngine(t, Options{ClusterAddresses: addrs, ClusterPartitions: 4})
	if !probe.shards[0].sharded {
		t.Error("Redis 7 cluster not using sharded PUB/SUB")
	}
	// The partitions must spread over the masters, or the cluster would
	// only be a single server with extra steps.
	slots := map[uint16]bool{}
	for _, p := range probe.shards[0].parts {
		slots[slotOf(p.keys.pubsub("x"))] = true
	}
	if len(slots) != 4 {
		t.Errorf("4 partitions use %d distinct slots", len(slots))
	}
	for _, classic := range []bool{false, true} {
		name := "sharded-pubsub"
		if classic {
			name = "classic-pubsub"
		}
		t.Run(name, func(t *testing.T) {
			enginetest.RunContract(t, func(t *testing.T) engine.Engine {
				e, err := New(Options{ClusterAddresses: addrs, ClusterPartitions: 4, Prefix: testPrefix(),
					PresenceTTL: enginetest.PresenceTTL, classicPubSub: classic})
				if err != nil {
					t.Fatalf("new engine: %v", err)
				}
				return e
			})
		})
		// Map scripts touch six keys and a PUB/SUB channel each: all must
		// hash to the partition's slot.
		t.Run(name+"-maps", func(t *testing.T) {
			enginetest.RunMapContract(t, func(t *testing.T) engine.MapBroker {
				e, err := New(Options{ClusterAddresses: addrs, ClusterPartitions: 4, Prefix: testPrefix(),
					MapCleanupInterval: 100 * time.Millisecond, classicPubSub: classic})
				if err != nil {
					t.Fatalf("new engine: %v", err)
				}
				return e
			})
		})
	}
}

// slotOf computes the cluster hash slot of a key (CRC16/XMODEM of the
// hash tag or whole key, mod 16384).
func slotOf(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

// TestSentinel finds a master through Sentinel and runs the contract
// against it.
func TestSentinel(t *testing.T) {
	master := testredis.Start(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	port := testredis.FreePort(t)
	text := "port " + strconv.Itoa(port) + "\nbind 127.0.0.1\ndir " + dir + "\n" +
		"sentinel monitor mymaster 127.0.0.1 " + strconv.Itoa(master.Port()) + " 1\n" +
		"sentinel down-after-milliseconds mymaster 2000\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a sentinel: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sentinel := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(5 * time.Second)
	for testredis.Ping(sentinel) != nil {
		if time.Now().After(deadline) {
			t.Skip("sentinel did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	enginetest.RunContract(t, func(t *testing.T) engine.Engine {
		e, err := New(Options{SentinelAddresses: []string{sentinel}, SentinelMasterName: "mymaster",
			Prefix: testPrefix(), PresenceTTL: enginetest.PresenceTTL})
		if err != nil {
			t.Fatalf("new engine: %v", err)
		}
		return e
	})
}
