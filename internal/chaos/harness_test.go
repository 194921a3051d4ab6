package chaos

// This file is the chaos harness: the reactivator binary built once, a private redis-server with
// the append-only file per scenario, the fake providers, worker processes and CLI invocations.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/internal/leakcheck"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

const (
	projectID = "project-test-c4a05000-0000-4000-8000-000000000001"
	secret    = "secret-test-chaos-Vb7Qm2Lx9Pz4Kc8Nw1Rt6Yh3="
	orgID     = "organization-test-c4a05000-0000-4000-8000-000000000002"
	zOrg      = "300000000000000001"
	token     = "zitadel-pat-chaos-Hq5Jw8Ke2Lr7Ts4Uv1Xy9"
	token2    = "zitadel-pat-chaos-rotated-Mb3Nc6Pd9Qf2Rg5"
)

var binary struct {
	once sync.Once
	path string
	err  error
	dir  string
}

// binEnv names a reactivator binary to use instead of building one.
const binEnv = "REACTIVATOR_BIN"

// reactivatorBinary builds cmd/reactivator once per test binary, without the race detector:
// the workers are production processes. $REACTIVATOR_BIN, when set, is used instead.
func reactivatorBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if p := os.Getenv(binEnv); p != "" {
			binary.path = p
			return
		}
		binary.dir, binary.err = os.MkdirTemp("", "chaos-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "reactivator")
		gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		out, err := exec.Command(gobin, "build", "-o", binary.path, "reactivator/cmd/reactivator").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build reactivator: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// world is one scenario's world: its own redis-server with the append-only file, fakes, and
// the environment the reactivator processes get.
type world struct {
	t       *testing.T
	bin     string
	dir     string
	redis   *redistest.Server
	rdb     *redis.Client
	store   *jobs.Store
	stytch  *fakeidp.Stytch
	zitadel *fakeidp.Zitadel

	mu      sync.Mutex
	env     map[string]string
	workers []*proc
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, bin: reactivatorBinary(t), dir: t.TempDir()}
	var err error
	if w.redis, err = redistest.Start(w.dir, redistest.Options{AppendOnly: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.redis.Stop)
	w.rdb = redis.NewClient(&redis.Options{Addr: w.redis.Addr, MaxRetries: 20})
	t.Cleanup(func() { _ = w.rdb.Close() })
	w.store = jobs.NewStore(w.rdb)

	w.stytch = fakeidp.NewStytch(projectID, secret)
	w.stytch.AddOrg(orgID, "chaos")
	stURL, stStop := fakeidp.Serve(w.stytch)
	t.Cleanup(stStop)
	w.zitadel = fakeidp.NewZitadel("")
	w.zitadel.AddToken(token, zOrg)
	zURL, zStop := fakeidp.Serve(w.zitadel)
	t.Cleanup(zStop)

	w.env = map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": w.dir, "TMPDIR": w.dir,
		"REDIS_URL":         w.redis.URL(0),
		"STYTCH_PROJECT_ID": projectID, "STYTCH_SECRET": secret, "STYTCH_BASE_URL": stURL,
		"ZITADEL_URL": zURL, "ZITADEL_TOKEN": token,
	}
	t.Cleanup(w.stopWorkers)
	return w
}

// setenv changes a variable of the environment later processes get.
func (w *world) setenv(k, v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.env[k] = v
}

func (w *world) environ() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.env))
	for k, v := range w.env {
		out = append(out, k+"="+v)
	}
	return out
}

// cli runs one reactivator command to its end and returns its stdout; a non-zero exit fails
// the test.
func (w *world) cli(args ...string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, append([]string{"--log-format", "json"}, args...)...)
	cmd.Env = w.environ()
	cmd.Dir = w.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("reactivator %s: %v\n--- stdout:\n%s--- stderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	w.saveOutput(strings.Join(args[:1], "-"), stdout.Bytes(), stderr.Bytes())
	return stdout.String()
}

// saveOutput keeps a command's output in the world's directory, for the leak scan.
func (w *world) saveOutput(name string, outs ...[]byte) {
	f, err := os.CreateTemp(w.dir, "cli-"+name+"-*.out")
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	for _, o := range outs {
		_, _ = f.Write(o)
	}
}

// proc is a reactivator worker process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	// stopped is set when the test signalled the worker; any other exit is a failure.
	stopped atomic.Bool
}

// startWorker starts `reactivator worker` with debug logs in JSON to <dir>/<name>.log.
func (w *world) startWorker(name string, args ...string) *proc {
	w.t.Helper()
	logPath := filepath.Join(w.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		w.t.Fatal(err)
	}
	argv := append([]string{"--log-format", "json", "--log-level", "debug", "worker",
		"--concurrency", "20", "--shutdown-timeout", "5s", "--call-timeout", "1s"}, args...)
	cmd := exec.Command(w.bin, argv...)
	cmd.Env = w.environ()
	cmd.Dir = w.dir
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	w.mu.Lock()
	w.workers = append(w.workers, p)
	w.mu.Unlock()
	return p
}

// signal sends sig to the worker and waits for it to exit.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.stopped.Store(true)
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("worker %s did not exit within 30s of %v", p.name, sig)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stopWorkers ends every worker still running with SIGTERM.
func (w *world) stopWorkers() {
	w.mu.Lock()
	ws := w.workers
	w.mu.Unlock()
	for _, p := range ws {
		if !p.exited() {
			p.signal(w.t, syscall.SIGTERM)
		}
	}
}

// checkWorkers fails the test when a worker exited by itself.
func (w *world) checkWorkers() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.workers {
		if p.exited() && !p.stopped.Load() {
			log, _ := os.ReadFile(p.log)
			w.t.Fatalf("worker %s exited by itself: %v\n%s", p.name, p.err, tail(log, 3000))
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stytchMember is the i-th member of the scenario's organization.
func stytchMember(i int) string { return fmt.Sprintf("member-test-c4a05000-0000-4000-8000-%012d", i) }

// zitadelUser is the i-th ZITADEL user.
func zitadelUser(i int) string { return fmt.Sprintf("31%016d", i) }

// ingest writes a CSV of n deactivated accounts of provider p, adds them to the fake, and
// queues it as run runID with `reactivator ingest`.
func (w *world) ingest(p jobs.Provider, runID string, n int) {
	w.t.Helper()
	var sb strings.Builder
	switch p {
	case jobs.Stytch:
		sb.WriteString("organization_id,member_id,note\n")
		for i := 1; i <= n; i++ {
			w.stytch.AddMember(orgID, stytchMember(i), fakeidp.StytchDeleted, true)
			fmt.Fprintf(&sb, "%s,%s,row %d\n", orgID, stytchMember(i), i)
		}
	case jobs.Zitadel:
		sb.WriteString("user_id,note\n")
		for i := 1; i <= n; i++ {
			w.zitadel.AddUser(zitadelUser(i), zOrg, fakeidp.ZitadelInactive)
			fmt.Fprintf(&sb, "%s,row %d\n", zitadelUser(i), i)
		}
	}
	path := filepath.Join(w.dir, runID+".csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.cli("ingest", "--run", runID, path)
}

// account returns the fake's call count and whether it is reactivated, for a report row.
func (w *world) account(r jobs.ReportRow) (calls int, applied bool) {
	switch r.Provider {
	case jobs.Stytch:
		org, member := r.Input[0], r.Input[1]
		return w.stytch.Calls(org + "/" + member), w.stytch.Status(org, member) == fakeidp.StytchActive
	default:
		user := r.Input[2]
		return w.zitadel.Calls(user), w.zitadel.State(user) == fakeidp.ZitadelActive
	}
}

// waitFor polls cond every 100ms until it holds, failing the test after timeout.
func (w *world) waitFor(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		w.checkWorkers()
		if time.Now().After(deadline) {
			var logs strings.Builder
			w.mu.Lock()
			for _, p := range w.workers {
				if b, err := os.ReadFile(p.log); err == nil && !p.exited() {
					fmt.Fprintf(&logs, "\n--- %s (last lines)\n%s", p.name, tail(b, 1500))
				}
			}
			w.mu.Unlock()
			w.t.Fatalf("timed out after %s waiting for %s%s", timeout, what, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// done returns how many rows of the run have an outcome (0 while Redis is unreachable).
func (w *world) done(runID string) int {
	r, err := w.store.Run(context.Background(), runID)
	if err != nil {
		return 0
	}
	return r.Done
}

// waitFinished waits for the run's last outcome.
func (w *world) waitFinished(runID string, timeout time.Duration) {
	w.t.Helper()
	w.waitFor("run "+runID+" to finish", timeout, func() bool {
		r, err := w.store.Run(context.Background(), runID)
		return err == nil && r.State == jobs.RunFinished
	})
}

// audit audits a finished run against the store, the workers' logs, its report and the fakes.
func (w *world) audit(runID string, rows int) Audit {
	w.t.Helper()
	ctx := context.Background()
	records := map[int]int{}
	w.mu.Lock()
	ws := w.workers
	w.mu.Unlock()
	for _, p := range ws {
		f, err := os.Open(p.log)
		if err != nil {
			w.t.Fatal(err)
		}
		err = CountRecords(f, runID, records)
		_ = f.Close()
		if err != nil {
			w.t.Fatal(err)
		}
	}
	report, err := CountReportLines(strings.NewReader(w.cli("report", runID, "--format", "csv")))
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := Run(ctx, Input{
		Store: w.store, RunID: runID, Rows: rows, Records: records, ReportLines: report,
		Calls:   func(r jobs.ReportRow) int { c, _ := w.account(r); return c },
		Applied: func(r jobs.ReportRow) bool { _, ok := w.account(r); return ok },
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range a.Problems {
		w.t.Errorf("audit of %s: %s", runID, p)
	}
	return a
}

// checkNoLeak scans the scenario's Redis, worker logs and command outputs for its secrets.
func (w *world) checkNoLeak() {
	w.t.Helper()
	var needles []leakcheck.Needle
	for name, s := range map[string]string{"stytch secret": secret, "zitadel token": token, "rotated zitadel token": token2} {
		needles = append(needles, leakcheck.Needles(name, s)...)
	}
	needles = append(needles, leakcheck.BasicAuth("stytch credentials", projectID, secret)...)
	found, keys, err := leakcheck.Redis(context.Background(), w.rdb, needles)
	if err != nil {
		w.t.Fatal(err)
	}
	if keys == 0 {
		w.t.Errorf("leak scan read no Redis key, want the run's keys")
	}
	files, _ := filepath.Glob(filepath.Join(w.dir, "*.log"))
	outs, _ := filepath.Glob(filepath.Join(w.dir, "cli-*.out"))
	for _, f := range append(files, outs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			w.t.Fatal(err)
		}
		found = append(found, leakcheck.Lines(filepath.Base(f), b, needles)...)
	}
	for _, f := range found {
		w.t.Errorf("secret leaked: %s", f)
	}
}
