// This file tests both embedded Redis kinds: the redis-server child (restart resumes, lock, socket
// placement) and the in-process Redis under asynq's real scripts.

package embedredis

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// client connects to r's URL the way the commands do, through asynq's URL parser.
func client(t *testing.T, r *Redis) redis.UniversalClient {
	t.Helper()
	opt, err := asynq.ParseRedisURI(r.URL())
	if err != nil {
		t.Fatalf("asynq.ParseRedisURI(%q) = %v, want nil", r.URL(), err)
	}
	c := opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func start(t *testing.T, o Options) *Redis {
	t.Helper()
	r, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start(%+v) = %v, want nil", o, err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func needRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server not found on PATH: install it (make deps) to test the embedded redis-server")
	}
}

func TestChildRestartKeepsData(t *testing.T) {
	t.Parallel()
	needRedisServer(t)
	dir := t.TempDir()
	ctx := context.Background()

	r := start(t, Options{StateDir: dir})
	if r.InProcess() {
		t.Fatal("InProcess() = true with redis-server on PATH, want false")
	}
	if !strings.HasPrefix(r.URL(), "redis-socket://") {
		t.Errorf("URL() = %q, want a redis-socket:// URL", r.URL())
	}
	if got, want := r.StateDir(), dir; got != want {
		t.Errorf("StateDir() = %q, want %q", got, want)
	}
	c := client(t, r)
	if err := c.Set(ctx, "reactivator:test", "kept", 0).Err(); err != nil {
		t.Fatalf("SET = %v", err)
	}
	if err := c.HSet(ctx, "reactivator:{run}:out", "2", "reactivated").Err(); err != nil {
		t.Fatalf("HSET = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "appendonlydir")); err != nil {
		t.Errorf("append-only directory after Close: %v, want it in the state directory", err)
	}

	r2 := start(t, Options{StateDir: dir})
	c2 := client(t, r2)
	if got, err := c2.Get(ctx, "reactivator:test").Result(); err != nil || got != "kept" {
		t.Errorf("GET after restart = %q, %v, want %q", got, err, "kept")
	}
	if got, err := c2.HGet(ctx, "reactivator:{run}:out", "2").Result(); err != nil || got != "reactivated" {
		t.Errorf("HGET after restart = %q, %v, want %q", got, err, "reactivated")
	}
}

func TestChildLocksStateDir(t *testing.T) {
	t.Parallel()
	needRedisServer(t)
	dir := t.TempDir()
	r := start(t, Options{StateDir: dir})

	_, err := Start(context.Background(), Options{StateDir: dir})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Start in the same state dir = %v, want a *LockedError", err)
	}
	if le.PID != os.Getpid() || le.Orphan {
		t.Errorf("LockedError = %+v, want PID %d and not an orphan", le, os.Getpid())
	}
	if !strings.Contains(err.Error(), "--redis") {
		t.Errorf("LockedError message %q does not suggest --redis", err)
	}
	// The first server is unharmed by the refused second start.
	if err := client(t, r).Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING of the first server after a refused second start = %v, want nil", err)
	}

	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	start(t, Options{StateDir: dir}) // the lock is free again
}

func TestChildLockNamesOrphanedServer(t *testing.T) {
	t.Parallel()
	needRedisServer(t)
	dir := t.TempDir()
	r := start(t, Options{StateDir: dir})
	// Pretend the command that started the server is gone: its pid is that of a finished process.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	writeLockInfo(r.child.lock, done.Process.Pid, r.child.cmd.Process.Pid)

	_, err := Start(context.Background(), Options{StateDir: dir})
	var le *LockedError
	if !errors.As(err, &le) || !le.Orphan || le.Server != r.child.cmd.Process.Pid {
		t.Fatalf("Start with an orphaned server = %v (%+v), want an orphan LockedError naming server pid %d", err, le, r.child.cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), "kill") {
		t.Errorf("orphan message %q does not say how to stop the server", err)
	}
}

func TestChildLongStateDirUsesPrivateSocketDir(t *testing.T) {
	t.Parallel()
	needRedisServer(t)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	r := start(t, Options{StateDir: dir})
	sock := strings.TrimPrefix(r.URL(), "redis-socket://")
	if strings.HasPrefix(sock, dir) || len(sock) > maxSockPath {
		t.Errorf("socket = %q, want a short path outside the long state dir", sock)
	}
	st, err := os.Stat(filepath.Dir(sock))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode = %v, %v, want 0700", st.Mode().Perm(), err)
	}
	if err := client(t, r).Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := os.Stat(filepath.Dir(sock)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Close: %v, want it removed", err)
	}
}

func TestChildRefusesMissingBinary(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Options{StateDir: t.TempDir(), RedisServer: filepath.Join(t.TempDir(), "no-redis-server")})
	if err == nil {
		t.Fatal("Start with a missing redis-server binary = nil, want an error")
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "xdg", env: map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/a"}, want: "/x/state/reactivator/redis"},
		{name: "home", env: map[string]string{"HOME": "/home/a"}, want: "/home/a/.local/state/reactivator/redis"},
		{name: "relative xdg is ignored", env: map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/a"}, want: "/home/a/.local/state/reactivator/redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DefaultStateDir(func(k string) string { return tt.env[k] })
			if err != nil || got != tt.want {
				t.Errorf("DefaultStateDir(%v) = %q, %v, want %q", tt.env, got, err, tt.want)
			}
		})
	}
}

// TestInProcessRunsAsynq enqueues and processes real asynq tasks on the in-process Redis: a task
// that fails once and is retried, a paused and unpaused queue, and task-id conflicts, which is
// every kind of asynq script the worker and ingest use.
func TestInProcessRunsAsynq(t *testing.T) {
	t.Parallel()
	r := start(t, Options{InProcess: true})
	if !r.InProcess() || r.StateDir() != "" {
		t.Fatalf("InProcess() = %v, StateDir() = %q, want true and empty", r.InProcess(), r.StateDir())
	}
	opt, err := asynq.ParseRedisURI(r.URL())
	if err != nil {
		t.Fatalf("asynq.ParseRedisURI(%q) = %v", r.URL(), err)
	}
	cl := asynq.NewClient(opt)
	defer cl.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	const n = 20
	for i := range n {
		_, err := cl.Enqueue(asynq.NewTask("t", []byte{byte(i)}), asynq.TaskID("id-"+string(rune('a'+i))), asynq.Queue("q"), asynq.MaxRetry(3))
		if err != nil {
			t.Fatalf("Enqueue #%d = %v", i, err)
		}
	}
	if _, err := cl.Enqueue(asynq.NewTask("t", []byte{0}), asynq.TaskID("id-a"), asynq.Queue("q")); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("Enqueue of a taken task id = %v, want ErrTaskIDConflict", err)
	}
	if err := insp.PauseQueue("q"); err != nil {
		t.Fatalf("PauseQueue = %v", err)
	}
	qs, err := insp.Queues()
	if err != nil || len(qs) != 1 {
		t.Errorf("Queues() = %v, %v, want [q]", qs, err)
	}

	var done, failedOnce atomic.Int64
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency: 4, Queues: map[string]int{"q": 1},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		LogLevel:       asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc("t", func(ctx context.Context, task *asynq.Task) error {
		if task.Payload()[0] == 3 && failedOnce.CompareAndSwap(0, 1) {
			return errors.New("first attempt fails")
		}
		done.Add(1)
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatalf("asynq server Start = %v", err)
	}
	defer srv.Shutdown()

	time.Sleep(300 * time.Millisecond)
	if got := done.Load(); got != 0 {
		t.Fatalf("tasks processed from a paused queue = %d, want 0", got)
	}
	if err := insp.UnpauseQueue("q"); err != nil {
		t.Fatalf("UnpauseQueue = %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for done.Load() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := done.Load(); got != n {
		t.Fatalf("tasks processed = %d, want %d", got, n)
	}
	if failedOnce.Load() != 1 {
		t.Errorf("failing task attempts = %d, want it to fail once and then be retried", failedOnce.Load())
	}
}
