package main

import (
	"reactivator/internal/fakeidp"
	"strings"
	"testing"

	"reactivator/jobs"
)

// TestPauseAndResume walks the fatal path: the secret is rotated under a running worker, its
// provider is paused with nothing burned, ingest --wait exits 4 saying why, status shows it,
// resume refuses while the check still fails, and after the fix resume lets the run finish.
func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.startWorker()
	const rotated = "secret-test-rotated-elsewhere-0123456789"
	w.secrets = append(w.secrets, rotated)
	path := w.stytchCSV("members.csv", 4)
	w.stytch.SetSecret(rotated)

	r := w.run("ingest", "--no-check", "--wait", path)
	if r.code != exitFatal {
		t.Fatalf("ingest --wait with a revoked secret = %s\nwant exit %d", r, exitFatal)
	}
	contains(t, "ingest stderr", r.stderr, "stytch is paused by a fatal error", "401", "reactivator resume stytch")
	run := w.onlyRun()
	if run.Counts[jobs.Reactivated] != 0 || run.Done != 0 {
		t.Errorf("run after the pause = done %d counts %v, want no row ended: a fatal answer burns nothing", run.Done, run.Counts)
	}

	r = w.run("status")
	contains(t, "status", r.stdout, "paused", "stytch is PAUSED", "unauthorized_credentials", "reactivator resume stytch")
	v := w.statusJSON(run.ID)
	if len(v.Paused) != 1 || v.Paused[0].Provider != jobs.Stytch || !v.Runs[0].Paused {
		t.Errorf("status --json paused = %+v, run paused %v, want stytch paused", v.Paused, v.Runs[0].Paused)
	}
	if r := w.run("status", run.ID, "--wait"); r.code != exitFatal {
		t.Errorf("status --wait of the paused run = %s\nwant exit %d", r, exitFatal)
	}

	// This machine still holds the rotated-away secret: resume refuses.
	w.stytch.SetSecret("secret-test-yet-another-one-0123456789")
	w.secrets = append(w.secrets, "secret-test-yet-another-one-0123456789")
	r = w.run("resume", "stytch")
	if r.code != exitFatal || !strings.Contains(r.stderr, "stytch stays paused") {
		t.Fatalf("resume with credentials still refused = %s\nwant exit %d and 'stays paused'", r, exitFatal)
	}

	// The fix: the project accepts the workers' secret again.
	w.stytch.SetSecret(wSecret)
	r = w.run("resume", "stytch")
	if r.code != exitOK {
		t.Fatalf("resume = %s", r)
	}
	contains(t, "resume", r.stdout, "resumed stytch: it was paused since", "by run "+run.ID, "unauthorized_credentials")
	if r := w.run("status", run.ID, "--wait"); r.code != exitOK {
		t.Fatalf("status --wait after resume = %s", r)
	}
	if run := w.runOf(run.ID); run.Counts[jobs.Reactivated] != 4 {
		t.Errorf("run after resume = counts %v, want 4 reactivated", run.Counts)
	}
	contains(t, "resume again", w.run("resume", "stytch").stdout, "stytch was not paused")
}

func TestResumeErrors(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"unknown provider", []string{"resume", "okta"}, exitUsage, "unknown provider"},
		{"no provider", []string{"resume"}, exitUsage, "accepts 1 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v = %s\nwant exit %d and %q", tc.args, r, tc.wantCode, tc.want)
			}
		})
	}
	// Without local credentials, resume says it could not check.
	w.setenv("ZITADEL_URL", "")
	w.setenv("ZITADEL_TOKEN", "")
	r := w.run("resume", "zitadel")
	if r.code != exitOK || !strings.Contains(r.stderr, "no credentials on this machine, not checked") || !strings.Contains(r.stdout, "was not paused") {
		t.Errorf("resume zitadel without credentials = %s\nwant exit 0, a note and 'was not paused'", r)
	}
}

// TestResumeRefusesWithoutUserWrite checks that resume zitadel probes the service user's
// permissions and refuses, exit 4, while it may reactivate nobody; once granted, it resumes.
func TestResumeRefusesWithoutUserWrite(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	const tok = "zitadel-pat-of-a-role-less-service-user"
	w.zitadel.AddServiceUser(tok, "400907376431008806")
	w.setenv("ZITADEL_TOKEN", tok)
	r := w.run("resume", "zitadel")
	if r.code != exitFatal || !strings.Contains(r.stdout+r.stderr, "ORG_USER_MANAGER") || !strings.Contains(r.stderr, "zitadel stays paused") {
		t.Errorf("resume zitadel with a role-less service user = %s\nwant exit 4 naming the role to grant", r)
	}
	w.zitadel.AddServiceUser(tok, "400907376431008806", fakeidp.Membership{OrgID: "400907376431008806", Roles: []string{fakeidp.RoleOrgUserManager}})
	if r := w.run("resume", "zitadel"); r.code != exitOK {
		t.Errorf("resume zitadel after the grant = %s\nwant exit 0", r)
	}
}
