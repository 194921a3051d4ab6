package redistest

import (
	"context"
	"testing"
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
