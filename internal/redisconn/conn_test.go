// This file tests Open over a unix socket URL.

package redisconn

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"reactivator/internal/redistest"
)

func TestOpenUnixURL(t *testing.T) {
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
	c, err := Open(context.Background(), Options{URL: "unix://" + sock + "?db=3"})
	if err != nil {
		t.Fatalf("Open(unix://…) = %v, want a connection", err)
	}
	defer c.Close()
	if err := c.Client.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("Set over the unix socket = %v", err)
	}
}
