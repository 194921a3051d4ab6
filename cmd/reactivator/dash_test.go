package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

const dashPassword = "dash-pw-Tq7Lm2Xv9Rk4Np8Wz" // must never be printed

// startDash runs `reactivator dash` on a free loopback-or-given port in the background and waits
// until it answers. It returns the base URL and stop, which ends the command and returns its result.
func (w *cliWorld) startDash(host string, args ...string) (base string, stop func() result) {
	w.t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		w.t.Fatal(err)
	}
	addr := fmt.Sprintf("%s:%d", host, port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- w.runCtx(ctx, append([]string{"dash", "--addr", addr}, args...)...) }()
	var once sync.Once
	var res result
	stop = func() result {
		once.Do(func() {
			cancel()
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				w.t.Errorf("dash did not stop within 30s of its context's end")
			}
		})
		return res
	}
	w.t.Cleanup(func() { stop() })
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; {
		select {
		case r := <-done:
			w.t.Fatalf("dash exited before serving: %v", r)
		default:
		}
		if resp, err := http.Get(base + "/static/style.css"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("dash on %s did not answer within 20s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, stop
}

// dashFetch sends one request and returns its status and body.
func dashFetch(t *testing.T, method, url string, header http.Header, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dashRun records a finished Stytch run of three rows: two reactivated, one not found.
func (w *cliWorld) dashRun(id string) {
	w.t.Helper()
	ctx := context.Background()
	if _, _, err := w.store.CreateRun(ctx, jobs.Run{ID: id, Provider: jobs.Stytch, File: id + ".csv"}); err != nil {
		w.t.Fatal(err)
	}
	var rows []jobs.IngestRow
	for i := 1; i <= 3; i++ {
		r := jobs.Row{Line: i + 1, Provider: jobs.Stytch, OrgID: wOrgID, MemberID: stytchMember(i)}
		rows = append(rows, jobs.IngestRow{Row: r, Input: []string{wOrgID, stytchMember(i), ""}})
	}
	if _, err := w.store.AddRows(ctx, id, rows); err != nil {
		w.t.Fatal(err)
	}
	for line, o := range map[int]jobs.Outcome{2: jobs.Reactivated, 3: jobs.NotFound, 4: jobs.Reactivated} {
		if _, _, err := w.store.Record(ctx, id, line, jobs.OutcomeRecord{Outcome: o, Message: "member_not_found"}); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.store.SetTotal(ctx, id, 3); err != nil {
		w.t.Fatal(err)
	}
}

func TestDashServesUntilStopped(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.dashRun("stytch-run-1")
	if err := w.store.SetPaused(context.Background(), jobs.Pause{Provider: jobs.Stytch, Reason: "401 unauthorized_credentials"}); err != nil {
		t.Fatal(err)
	}
	base, stop := w.startDash("127.0.0.1")

	status, page := dashFetch(t, "GET", base+"/", nil, "", "")
	if status != http.StatusOK || !strings.Contains(page, `data-run="stytch-run-1"`) ||
		!strings.Contains(page, `data-outcome="not_found" title="check the ids / org">not_found <b>1</b>`) {
		t.Errorf("GET / = %d, want 200 listing stytch-run-1 with 1 not_found:\n%s", status, page)
	}
	status, csv := dashFetch(t, "GET", base+"/runs/stytch-run-1/report.csv?failed_only=1", nil, "", "")
	if status != http.StatusOK || strings.Count(csv, "\n") != 2 || !strings.Contains(csv, stytchMember(2)) {
		t.Errorf("GET failed-only report = %d, want 200 with a header and the not_found row:\n%s", status, csv)
	}
	if status, body := dashFetch(t, "GET", base+"/metrics", nil, "", ""); status != http.StatusOK ||
		!strings.Contains(body, `reactivator_provider_paused{provider="stytch"} 1`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics = %d, want 200 with our metrics and the Go runtime's:\n%.2000s", status, body)
	}
	// Read-only monitor by default.
	if status, _ := dashFetch(t, "POST", base+"/monitoring/api/queues/reactivator-stytch:pause", http.Header{"Origin": {base}}, "", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("POST to the monitor's write API = %d, want 405", status)
	}
	// The resume button checks the credentials first, as `reactivator resume` does: refused
	// while the provider refuses them, the provider stays paused ...
	w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789")
	if status, body := dashFetch(t, "POST", base+"/providers/stytch/resume", http.Header{"Origin": {base}}, "", ""); status != http.StatusConflict ||
		!strings.Contains(body, "stytch stays paused") {
		t.Errorf("POST resume with refused credentials = %d, want 409 saying stytch stays paused:\n%s", status, body)
	}
	if paused, err := w.store.Paused(context.Background()); err != nil || len(paused) != 1 {
		t.Errorf("Paused() after a refused resume = %v, %v; want stytch", paused, err)
	}
	w.stytch.SetSecret(wSecret)
	// ... and resumes for real once they work.
	if status, _ := dashFetch(t, "POST", base+"/providers/stytch/resume", http.Header{"Origin": {base}}, "", ""); status != http.StatusSeeOther {
		t.Errorf("POST resume = %d, want 303", status)
	}
	if paused, err := w.store.Paused(context.Background()); err != nil || len(paused) != 0 {
		t.Errorf("Paused() after the resume button = %v, %v; want none", paused, err)
	}

	r := stop()
	if r.code != exitOK {
		t.Errorf("dash stopped by its context: %v; want exit 0", r)
	}
	if !strings.Contains(r.stdout, "dashboard on http://127.0.0.1:") || !strings.Contains(r.stdout, "queue monitor read-only") {
		t.Errorf("dash stdout = %q, want the URL and the monitor's mode", r.stdout)
	}
}

func TestDashBasicAuthOnAllInterfaces(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.secrets = append(w.secrets, dashPassword)
	w.setenv("REACTIVATOR_DASH_USER", "ops")
	w.setenv("REACTIVATOR_DASH_PASSWORD", dashPassword)
	base, stop := w.startDash("0.0.0.0", "--monitor-write")

	if status, _ := dashFetch(t, "GET", base+"/", nil, "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET / without credentials = %d, want 401", status)
	}
	if status, _ := dashFetch(t, "GET", base+"/", nil, "ops", "wrong"); status != http.StatusUnauthorized {
		t.Errorf("GET / with a wrong password = %d, want 401", status)
	}
	if status, _ := dashFetch(t, "GET", base+"/", nil, "ops", dashPassword); status != http.StatusOK {
		t.Errorf("GET / with the credentials = %d, want 200", status)
	}
	r := stop()
	if r.code != exitOK || !strings.Contains(r.stdout, "basic auth as ops") || !strings.Contains(r.stdout, "queue monitor writable") {
		t.Errorf("dash = %v; want exit 0 saying basic auth and a writable monitor", r)
	}
	if !strings.Contains(r.stderr, "--monitor-write") {
		t.Errorf("dash --monitor-write does not warn:\n%s", r.stderr)
	}
}

func TestDashPasswordFile(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.secrets = append(w.secrets, dashPassword)
	w.setenv("REACTIVATOR_DASH_USER", "ops")
	pwFile := w.file("dash-password", dashPassword+"\n")
	base, stop := w.startDash("0.0.0.0", "--password-file", pwFile)
	if status, _ := dashFetch(t, "GET", base+"/", nil, "ops", dashPassword); status != http.StatusOK {
		t.Errorf("GET / with the password from --password-file = %d, want 200", status)
	}
	if status, _ := dashFetch(t, "GET", base+"/", nil, "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET / without credentials = %d, want 401", status)
	}
	if r := stop(); r.code != exitOK {
		t.Errorf("dash = %v, want exit 0", r)
	}
}

func TestDashRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{name: "all interfaces without auth", args: []string{"--addr", "0.0.0.0:0"}, code: exitUsage,
			want: "set REACTIVATOR_DASH_USER and REACTIVATOR_DASH_PASSWORD"},
		{name: "empty host without auth", args: []string{"--addr", ":0"}, code: exitUsage, want: "not a loopback address"},
		{name: "LAN address without auth", args: []string{"--addr", "192.168.1.20:8080"}, code: exitUsage, want: "not a loopback address"},
		{name: "address without port", args: []string{"--addr", "127.0.0.1"}, code: exitUsage, want: "want host:port"},
		{name: "user without password", args: []string{"--addr", "0.0.0.0:0"}, env: map[string]string{"REACTIVATOR_DASH_USER": "ops"},
			code: exitError, want: "no password"},
		{name: "password without user", args: []string{"--addr", "127.0.0.1:0"}, env: map[string]string{"REACTIVATOR_DASH_PASSWORD": dashPassword},
			code: exitError, want: "no user"},
		{name: "missing password file", args: []string{"--addr", "127.0.0.1:0", "--password-file", "/nonexistent/dash-pw"},
			env: map[string]string{"REACTIVATOR_DASH_USER": "ops"}, code: exitError, want: "REACTIVATOR_DASH_PASSWORD_FILE"},
		{name: "no redis", args: []string{"--addr", "127.0.0.1:0"}, env: map[string]string{"REDIS_URL": ""}, code: exitError, want: "no Redis"},
		{name: "stray argument", args: []string{"extra"}, code: exitUsage, want: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			w.secrets = append(w.secrets, dashPassword)
			for k, v := range tt.env {
				w.setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := w.runCtx(ctx, append([]string{"dash"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("dash %v = %v; want exit %d saying %q", tt.args, r, tt.code, tt.want)
			}
		})
	}
}
