package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/redisconn"
	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// TestOneRedisClientPerProcess runs a worker, ingest, status and run on a Redis of their own whose
// URL names the connections (client_name): every connection the server sees, sampled all along,
// is one of the URL's client or the test's own. A pool built any other way (from an asynq option,
// say) would have no name.
func TestOneRedisClientPerProcess(t *testing.T) {
	t.Parallel()
	srv, err := redistest.Start(t.TempDir(), redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	const ours, theirs = "test-admin", "reactivator-proc"
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, ClientName: ours})
	t.Cleanup(func() { _ = admin.Close() })
	w := newCLIWorld(t)
	w.redis, w.store = admin, jobs.NewStore(admin)
	w.setenv("REDIS_URL", "redis://"+srv.Addr+"/0?client_name="+theirs)

	var mu sync.Mutex
	var foreign []string
	named := 0
	sample := func() {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
			name, fresh := "", false
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "name="); ok {
					name = v
				}
				fresh = fresh || f == "cmd=NULL"
			}
			switch {
			case fresh:
				// Connected, no command yet: the client names itself in its first one (HELLO).
			case name == ours:
			case name == theirs:
				named++
			default:
				foreign = append(foreign, line)
			}
		}
	}
	sctx, stopSampling := context.WithCancel(context.Background())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sctx.Err() == nil {
			sample()
			time.Sleep(10 * time.Millisecond)
		}
	}()

	wctx, stopWorker := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- w.runCtx(wctx, "worker", "--shutdown-timeout", "5s", "--concurrency", "10") }()
	insp := asynq.NewInspectorFromRedisClient(admin)
	for servers, _ := insp.Servers(); len(servers) == 0; servers, _ = insp.Servers() {
		select {
		case r := <-done:
			t.Fatalf("worker exited before serving: %s", r)
		case <-time.After(20 * time.Millisecond):
		}
	}
	r := w.run("ingest", w.stytchCSV("members.csv", 3))
	if r.code != exitOK {
		t.Fatalf("ingest = %s", r)
	}
	if r := w.run("status", w.onlyRun().ID, "--wait"); r.code != exitOK {
		t.Fatalf("status --wait = %s", r)
	}
	if r := w.run("run", w.zitadelCSV("users.csv", 2), "--report", filepath.Join(w.dir, "users.report.csv")); r.code != exitOK {
		t.Fatalf("run = %s", r)
	}
	stopWorker()
	if r := <-done; r.code != exitOK {
		t.Errorf("worker = %s", r)
	}
	stopSampling()
	<-sampled
	sample()
	mu.Lock()
	defer mu.Unlock()
	if named == 0 {
		t.Fatalf("no connection named %s was seen: the sampling saw nothing", theirs)
	}
	if len(foreign) > 0 {
		t.Errorf("connections not made by the process's one client (%d samples):\n%s", len(foreign), strings.Join(foreign[:min(len(foreign), 5)], "\n"))
	}
}

// TestClusterURL runs the commands on a real three-master Redis Cluster named by a
// redis-cluster:// URL: `run` (its own worker) over a Stytch file, then a `worker` process with
// `ingest` of a ZITADEL file, `status --wait` and `report`. Every row is reactivated, each account
// is called once, and the reports say so.
func TestClusterURL(t *testing.T) {
	t.Parallel()
	cl, err := redistest.StartCluster(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	// The nodes require a password: it must work in the URL and never be printed (every output
	// of w.run is checked for the world's secrets).
	const password = "cluster-pw-Qe4Rt7Yu0Io"
	for _, n := range cl.Nodes {
		admin := redis.NewClient(&redis.Options{Addr: n.Addr})
		err := admin.ConfigSet(context.Background(), "requirepass", password).Err()
		_ = admin.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := newCLIWorld(t)
	w.secrets = append(w.secrets, password)
	ccl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), Password: password})
	t.Cleanup(func() { _ = ccl.Close() })
	w.store = jobs.NewStore(ccl)
	w.setenv("REDIS_URL", "redis-cluster://:"+password+"@"+strings.Join(cl.Addrs(), ","))

	members := w.stytchCSV("members.csv", 12)
	report := filepath.Join(w.dir, "members.report.csv")
	if r := w.run("run", "--report", report, members); r.code != exitOK {
		t.Fatalf("run over a redis-cluster:// URL = %s", r)
	}
	_, rows := readReport(t, report)
	for i := 1; i <= 12; i++ {
		if got := rows[i+1]["outcome"]; got != string(jobs.Reactivated) {
			t.Errorf("members line %d outcome = %q, want reactivated", i+1, got)
		}
		if n := w.stytch.Calls(wOrgID + "/" + stytchMember(i)); n != 1 {
			t.Errorf("member %d got %d calls, want 1", i, n)
		}
	}

	wctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	done := make(chan result, 1)
	go func() { done <- w.runCtx(wctx, "worker", "--shutdown-timeout", "5s", "--concurrency", "10") }()
	insp := asynq.NewInspectorFromRedisClient(ccl)
	for servers, _ := insp.Servers(); len(servers) == 0; servers, _ = insp.Servers() {
		select {
		case r := <-done:
			t.Fatalf("worker exited before serving: %s", r)
		case <-time.After(20 * time.Millisecond):
		}
	}
	users := w.zitadelCSV("users.csv", 10)
	r := w.run("ingest", users)
	if r.code != exitOK {
		t.Fatalf("ingest over a redis-cluster:// URL = %s", r)
	}
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var zrun string
	for _, run := range runs {
		if run.Provider == jobs.Zitadel {
			zrun = run.ID
		}
	}
	if len(runs) != 2 || zrun == "" {
		t.Fatalf("runs on the cluster = %+v, want the Stytch run and the ZITADEL run", runs)
	}
	if r := w.run("status", zrun, "--wait"); r.code != exitOK {
		t.Fatalf("status --wait = %s", r)
	}
	zreport := filepath.Join(w.dir, "users.report.csv")
	if r := w.run("report", zrun, "-o", zreport); r.code != exitOK {
		t.Fatalf("report = %s", r)
	}
	_, zrows := readReport(t, zreport)
	for i := 1; i <= 10; i++ {
		id := fmt.Sprintf("3000000000000%05d", i)
		if got := zrows[i+1]["outcome"]; got != string(jobs.Reactivated) {
			t.Errorf("users line %d outcome = %q, want reactivated", i+1, got)
		}
		if n := w.zitadel.Calls(id); n != 1 {
			t.Errorf("user %s got %d calls, want 1", id, n)
		}
	}
	stopWorker()
	if r := <-done; r.code != exitOK {
		t.Errorf("worker = %s", r)
	} else if strings.Contains(r.stderr, "level=ERROR") || strings.Contains(r.stderr, "CROSSSLOT") || strings.Contains(r.stderr, "MOVED") {
		t.Errorf("worker logged errors on the cluster:\n%s", r.stderr)
	}
}

// TestRedisURLPasswordNotPrintedByCommands: a command given a URL of any form with a password that
// does not answer fails naming the server, and no output holds the password.
func TestRedisURLPasswordNotPrintedByCommands(t *testing.T) {
	t.Parallel()
	const pw = "url-pw-Lk8Jh5Gf2Ds"
	w := newCLIWorld(t)
	w.secrets = append(w.secrets, pw)
	for _, u := range []string{
		"redis://:" + pw + "@127.0.0.1:1/0",
		"rediss://app:" + pw + "@127.0.0.1:1/0",
		"redis-sentinel://:" + pw + "@127.0.0.1:1,127.0.0.1:2?master=m&sentinel_password=" + pw,
		"rediss-sentinel://127.0.0.1:1?master=m&password=" + pw,
		"redis-cluster://:" + pw + "@127.0.0.1:1,127.0.0.1:2",
		"rediss-cluster://app:" + pw + "@127.0.0.1:1",
		"redis-cluster://:" + pw + "@127.0.0.1:1/2",
		"redis://app:" + pw + "/127.0.0.1:1",
	} {
		w.setenv("REDIS_URL", u)
		for _, args := range [][]string{{"status"}, {"status", "--json"}, {"worker"}} {
			r := w.run(args...) // run checks every output for the password
			if r.code == exitOK || !strings.Contains(r.stderr, "127.0.0.1") {
				t.Errorf("%s with %s: %s\nwant a failure naming the server", args, redisconn.Redact(u), r)
			}
		}
	}
}
