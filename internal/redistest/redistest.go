// Package redistest starts a private redis-server for one test binary, on a free port with
// nothing kept on disk, and stops it when the tests end. It never touches a server it did not start.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/clock"
)

// Server is a redis-server child process.
type Server struct {
	// Addr is host:port of the server.
	Addr string
	// Dir is the server's working directory (its append-only file when started with AOF).
	Dir  string
	cmd  *exec.Cmd
	args []string
	db   int
	mu   sync.Mutex
}

// Options change how a server starts.
type Options struct {
	// AppendOnly turns the append-only file on (for tests that restart the server).
	AppendOnly bool
	// Port is the port to listen on; 0 picks a free one.
	Port int
	// Args are extra redis-server arguments (TLS, say).
	Args []string
	// ConfigFile, when set, is the configuration file redis-server reads first (a sentinel's, which
	// it rewrites).
	ConfigFile string
}

// Start starts a redis-server with the given options in dir. It fails with a clear message when
// redis-server is not installed.
func Start(dir string, o Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH: install it (apt-get install -y redis-server) or run `make test`, which does")
	}
	port := o.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	aof := "no"
	if o.AppendOnly {
		aof = "yes"
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", aof,
		"--dir", dir, "--daemonize", "no", "--databases", "256", "--logfile", filepath.Join(dir, "redis.log")}, o.Args...)
	if o.ConfigFile != "" {
		args = append([]string{o.ConfigFile}, args...)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, args: append([]string{bin}, args...)}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		c, err := (&net.Dialer{Timeout: 100 * time.Millisecond}).DialContext(ctx, "tcp", s.Addr)
		if err == nil {
			fmt.Fprintf(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if line == "+PONG\r\n" || strings.HasPrefix(line, "-NOAUTH") { // NOAUTH: up, with a password
				return nil
			}
		}
		_ = clock.Sleep(ctx, 20*time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	return fmt.Errorf("redis-server on %s did not answer PING within 10s:\n%s", s.Addr, log)
}

// Stop ends the server.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and directory.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// URL returns a redis:// URL of database db on the server.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr, db) }

// NextDB hands out a database number no other test of this binary uses (1..255), so parallel tests
// of one package stay apart without a FLUSH.
func (s *Server) NextDB() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.db++
	if s.db > 255 {
		panic("redistest: more than 255 databases asked for; start another server")
	}
	return s.db
}

// Client returns a go-redis client of a fresh database, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: s.NextDB()})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping private redis: %v", err)
	}
	return c
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
	dir  string
}

// Main is TestMain's body for a package that needs Redis: it starts the package's server, runs
// the tests and stops it. Use Shared(t) in tests to reach it.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// Shared returns the package's server, starting it on first use. Tests fail (not skip) without
// redis-server: a skipped test proves nothing.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "redistest-")
		if shared.err == nil {
			shared.srv, shared.err = Start(shared.dir, Options{})
		}
	})
	if shared.err != nil {
		t.Fatalf("%v", shared.err)
	}
	return shared.srv
}
