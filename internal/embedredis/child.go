// This file is responsible for the redis-server child: its lock, its start, its readiness and its
// clean stop.

//go:build unix

package embedredis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"reactivator/jobs"
)

// childSupported says whether this platform can run the redis-server child.
const childSupported = true

const (
	// lockName is the lock file in the state directory.
	lockName = "reactivator.lock"
	// sockName is the socket's name.
	sockName = "redis.sock"
	// logName is the server's log file in the state directory.
	logName = "redis.log"
	// maxSockPath is the longest socket path used as is (sun_path holds 104 bytes on macOS).
	maxSockPath = 100
	// readyTimeout bounds the wait for the server to load its append-only file and answer.
	readyTimeout = 2 * time.Minute
	// stopTimeout is how long a stopping server may take to flush before it is killed.
	stopTimeout = time.Minute
)

// child is a running redis-server.
type child struct {
	dir     string
	sock    string
	sockDir string // a private temporary directory holding the socket, removed on stop; "" when none
	lock    *os.File
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	log     *slog.Logger
}

func (c *child) url() string { return "redis-socket://" + c.sock }

// startChild locks dir and starts bin on a socket with its append-only file in dir.
func startChild(ctx context.Context, bin, dir string, log *slog.Logger) (_ *child, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the state directory of the embedded redis: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	c := &child{dir: dir, lock: lock, exited: make(chan struct{}), log: log}
	defer func() {
		if err != nil {
			c.cleanup()
		}
	}()

	c.sock = filepath.Join(dir, sockName)
	if len(c.sock) > maxSockPath {
		if c.sockDir, err = os.MkdirTemp("", "reactivator-redis-"); err != nil {
			return nil, fmt.Errorf("create a directory for the embedded redis socket: %w", err)
		}
		c.sock = filepath.Join(c.sockDir, sockName)
	}
	// A socket left by a server that was killed; the lock says no server uses it.
	if err := os.Remove(c.sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove the stale socket %s: %w", c.sock, err)
	}

	c.cmd = exec.Command(bin,
		"--port", "0", "--unixsocket", c.sock, "--unixsocketperm", "700",
		"--dir", dir, "--logfile", logName, "--daemonize", "no",
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
	c.cmd.Dir = dir
	// The child holds the lock too (the flock belongs to the open file, which it inherits), so a
	// server orphaned by a killed command still keeps a second one out of its append-only file.
	c.cmd.ExtraFiles = []*os.File{lock}
	c.cmd.SysProcAttr = sysProcAttr()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	writeLockInfo(lock, os.Getpid(), c.cmd.Process.Pid)
	log.Debug("embedded redis-server started", "pid", c.cmd.Process.Pid, "dir", dir, "socket", c.sock)

	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// waitReady waits until the server answers PING (it answers LOADING while it reads its
// append-only file), then checks its version.
func (c *child) waitReady(ctx context.Context) error {
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: c.sock, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			break
		}
		select {
		case <-c.exited:
			return fmt.Errorf("embedded redis-server exited at start (%v): %s", c.waitErr, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("embedded redis-server did not answer within %s (%v): %s", readyTimeout, err, c.logTail())
		case <-tick.C:
		}
	}
	if err := jobs.NewStore(rdb).CheckServer(ctx); err != nil {
		var old *jobs.OldRedisError
		if errors.As(err, &old) {
			return fmt.Errorf("the redis-server on PATH is %s; reactivator needs %s or newer: upgrade it, or give --redis", old.Version, jobs.MinRedisVersion)
		}
		return fmt.Errorf("embedded redis-server: %w", err)
	}
	return nil
}

// stop sends SIGTERM (redis-server flushes its append-only file and exits), waits, and kills the
// server if it has not exited after stopTimeout.
func (c *child) stop() error {
	var err error
	if e := c.cmd.Process.Signal(syscall.SIGTERM); e != nil && !errors.Is(e, os.ErrProcessDone) {
		err = fmt.Errorf("stop the embedded redis-server: %w", e)
	}
	select {
	case <-c.exited:
		var ee *exec.ExitError
		if c.waitErr != nil && !errors.As(c.waitErr, &ee) {
			err = errors.Join(err, fmt.Errorf("embedded redis-server: %w", c.waitErr))
		} else if ee != nil && !ee.Success() {
			err = errors.Join(err, fmt.Errorf("embedded redis-server exited with %v: %s", c.waitErr, c.logTail()))
		}
	case <-time.After(stopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
		err = errors.Join(err, fmt.Errorf("embedded redis-server did not stop within %s and was killed; its last second of writes may be lost", stopTimeout))
	}
	c.log.Debug("embedded redis-server stopped", "dir", c.dir)
	c.cleanup()
	return err
}

// cleanup ends a child that failed to start, releases the lock and removes the socket directory.
func (c *child) cleanup() {
	if c.cmd != nil && c.cmd.Process != nil {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	}
	if c.sockDir != "" {
		_ = os.RemoveAll(c.sockDir)
	}
	if c.lock != nil {
		_ = c.lock.Truncate(0)
		_ = c.lock.Close()
	}
}

// logTail returns the last lines of the server's log, for errors.
func (c *child) logTail() string {
	b, err := os.ReadFile(filepath.Join(c.dir, logName))
	if err != nil || len(b) == 0 {
		return "no log"
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return "log " + filepath.Join(c.dir, logName) + " ends:\n" + string(bytes.Join(lines, []byte("\n")))
}

// lockDir takes an exclusive flock on the state directory's lock file, without waiting.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock of the embedded redis: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err == nil {
		return f, nil
	}
	defer f.Close()
	if errors.Is(err, unix.EWOULDBLOCK) {
		le := &LockedError{Dir: dir}
		le.PID, le.Server = readLockInfo(f)
		le.Orphan = le.PID > 0 && !alive(le.PID)
		return nil, le
	}
	return nil, fmt.Errorf("lock %s: %w", path, err)
}

// writeLockInfo records who holds the lock, for the message of the next one that wants it.
func writeLockInfo(f *os.File, pid, server int) {
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d\nredis-server %d\n", pid, server)), 0)
}

func readLockInfo(f *os.File) (pid, server int) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		n, _ := strconv.Atoi(v)
		switch k {
		case "pid":
			pid = n
		case "redis-server":
			server = n
		}
	}
	return pid, server
}

// alive reports whether a process of that pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
