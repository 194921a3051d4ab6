// This file starts a Redis Cluster of three masters for tests that must run on one.

package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/clock"
)

// Cluster is a Redis Cluster of three masters without replicas, each a redis-server child of
// this process, its 16384 slots split in three.
type Cluster struct {
	// Nodes are the masters.
	Nodes []*Server
	bus   []int // the nodes' cluster bus ports
}

// StartCluster starts a three-master cluster in dir and waits until every node says the
// cluster is ok. It builds the cluster by hand (CLUSTER ADDSLOTSRANGE, MEET), which takes well
// under a second and needs no redis-cli.
func StartCluster(dir string) (*Cluster, error) {
	c := &Cluster{}
	for i := range 3 {
		bus, err := FreePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		d := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			c.Stop()
			return nil, err
		}
		s, err := Start(d, Options{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(d, "nodes.conf"),
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "5000"}})
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.Nodes = append(c.Nodes, s)
		c.bus = append(c.bus, bus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.form(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// form gives each node a third of the slots and its own config epoch, introduces them and waits
// for the cluster to be ok on every node.
func (c *Cluster) form(ctx context.Context) error {
	const slots = 16384
	for i, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		lo, hi := i*slots/len(c.Nodes), (i+1)*slots/len(c.Nodes)-1
		err := cl.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err()
		if err == nil {
			err = cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		}
		if err == nil && i > 0 {
			host, port, _ := strings.Cut(c.Nodes[0].Addr, ":")
			err = cl.Do(ctx, "CLUSTER", "MEET", host, port, c.bus[0]).Err()
		}
		_ = cl.Close()
		if err != nil {
			return fmt.Errorf("form cluster at node %s: %w", n.Addr, err)
		}
	}
	for _, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr})
		err := waitClusterOK(ctx, cl, len(c.Nodes))
		_ = cl.Close()
		if err != nil {
			return fmt.Errorf("cluster node %s: %w", n.Addr, err)
		}
	}
	return nil
}

// waitClusterOK waits until a node reports the cluster ok and knows every master.
func waitClusterOK(ctx context.Context, cl *redis.Client, masters int) error {
	last := ""
	for {
		info, err := cl.ClusterInfo(ctx).Result()
		if err == nil {
			last = info
			if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(masters)+"\r") {
				return nil
			}
		}
		if clock.Sleep(ctx, 20*time.Millisecond) != nil {
			return errors.New("cluster not ok in time: " + strings.Join(strings.Fields(last), " "))
		}
	}
}

// Addrs returns the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL returns the cluster's redis-cluster:// URL (every node listed).
func (c *Cluster) URL() string { return "redis-cluster://" + strings.Join(c.Addrs(), ",") }

// Client returns a cluster client, closed when t ends.
func (c *Cluster) Client(t interface {
	Helper()
	Cleanup(func())
}) *redis.ClusterClient {
	t.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Stop ends every node.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
}
