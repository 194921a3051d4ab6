package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"reactivator/internal/redistest"
)

func TestRedisFromUnixURL(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "rs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "r.sock")
	srv, err := redistest.Start(dir, redistest.Options{Args: []string{"--unixsocket", sock, "--unixsocketperm", "700"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	rc, err := redisFromURL(context.Background(), "unix://"+sock+"?db=3", "")
	if err != nil {
		t.Fatalf("redisFromURL(unix://…) = %v, want a connection", err)
	}
	defer rc.Close()
	if err := rc.client.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("Set over the unix socket = %v", err)
	}
}
