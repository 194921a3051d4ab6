package redistest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { Main(m) }

func TestSharedServerIsolatesDatabases(t *testing.T) {
	t.Parallel()
	s := Shared(t)
	a, b := s.Client(t), s.Client(t)
	ctx := context.Background()
	if err := a.Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("Exists(k) in another database = %d, %v; want 0, nil", n, err)
	}
}

func TestRestartKeepsAppendOnlyData(t *testing.T) {
	t.Parallel()
	s, err := Start(t.TempDir(), Options{AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("Get(k) after restart = %q, %v; want v", got, err)
	}
}

// TestCluster: the three masters form one cluster; keys of every slot range are reachable
// through a cluster client, and a script over two keys of one hash tag runs while one over two
// slots is refused (as on any real cluster).
func TestCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c, err := StartCluster(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	t.Logf("cluster of %d masters up in %v", len(c.Nodes), time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	cl := c.Client(t)
	for i := range 30 {
		k := fmt.Sprintf("k%d", i)
		if err := cl.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	var mu sync.Mutex // ForEachMaster calls in parallel
	masters := map[string]bool{}
	err = cl.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		masters[m.Options().Addr] = n > 0
		return nil
	})
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters = %v, %v; want 3", masters, err)
	}
	for addr, has := range masters {
		if !has {
			t.Errorf("master %s holds no key of 30: the slots are not spread", addr)
		}
	}
	script := "redis.call('SET', KEYS[1], 1); redis.call('SET', KEYS[2], 1); return 1"
	if err := cl.Eval(ctx, script, []string{"a:{r1}:x", "a:{r1}:y"}).Err(); err != nil {
		t.Errorf("script over one hash tag: %v", err)
	}
	if err := cl.Eval(ctx, script, []string{"a:{r1}:x", "a:{r2}:y"}).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("script over two slots = %v, want CROSSSLOT", err)
	}
}
