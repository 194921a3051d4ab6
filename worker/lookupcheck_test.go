// This file tests that a worker's passed lookup check belongs to the credentials it was made
// with: a token file rotated to a service user without a role is checked again, and its refusal
// pauses the provider with a hint naming the role to grant.

package worker

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reactivator/internal/fakeidp"
	"reactivator/internal/secretfile"
	"reactivator/internal/syncbuf"
	"reactivator/jobs"
	"reactivator/worker/zitadel"
)

// TestLookupCheckFollowsTokenRotation: a worker passes the lookup check with a user manager's
// token file; the file is then rewritten with the token of a service user without any role. The
// next lookup rows pause ZITADEL naming the role to grant (in the pause, the run's note and the
// log's next step), end no row not_found and call no reactivate. "re-read" rewrites the file so
// the client sees it before the lookup; "401" keeps its size and time, so the client finds the
// new token only when ZITADEL refuses the old one during the lookup itself.
func TestLookupCheckFollowsTokenRotation(t *testing.T) {
	t.Parallel()
	const own, n = "400907376431008806", 3
	const manager, roleless = "pat-of-the-user-manager", "pat-of-a-user-sans-role"
	if len(manager) != len(roleless) {
		t.Fatalf("the tokens must have the same length (%d, %d): the 401 case keeps the file's size", len(manager), len(roleless))
	}
	for _, tt := range []struct {
		name  string
		on401 bool
	}{
		{name: "re-read"},
		{name: "401", on401: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			z := fakeidp.NewZitadel("127.0.0.1")
			url, stop := fakeidp.Serve(z)
			t.Cleanup(stop)
			z.AddOrg(own)
			z.AddServiceUser(manager, own, fakeidp.Membership{OrgID: own, Roles: []string{fakeidp.RoleOrgUserManager}})
			z.AddServiceUser(roleless, own)
			rows := func(from int) string {
				var data strings.Builder
				data.WriteString("email\n")
				for i := from; i < from+n; i++ {
					id := fmt.Sprint(1000 + i)
					z.AddZitadelUser(fakeidp.ZitadelUser{ID: id, OrgID: own, State: fakeidp.ZitadelInactive, UserName: "u" + id, Email: "u" + id + "@example.com"})
					fmt.Fprintf(&data, "u%s@example.com\n", id)
				}
				return data.String()
			}
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte(manager+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := zitadel.New(b.ctx, zitadel.Config{BaseURL: url, TokenFile: file, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var logs syncbuf.Buffer
			cfg := b.config(map[jobs.Provider]Caller{jobs.Zitadel: c})
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			b.start(cfg)

			b.ingestCSV("before", rows(1))
			if run := b.waitFinished("before", time.Minute); run.Counts[jobs.Reactivated] != n {
				t.Fatalf("before the rotation: counts = %v, want %d reactivated", run.Counts, n)
			}
			if got := z.Requests("/auth/v1/memberships/me/_search"); got != 1 {
				t.Fatalf("membership look-ups before the rotation = %d, want 1", got)
			}

			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if tt.on401 {
				// Same size and time: the client's look at the file sees no change, sends the
				// old token, and reads the file again when ZITADEL refuses it.
				z.RevokeTokens()
				z.AddServiceUser(roleless, own)
				if err := os.WriteFile(file, []byte(roleless+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(file, fi.ModTime(), fi.ModTime()); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.WriteFile(file, []byte(roleless+"\n\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				// Not a timing assert: the client looks at the file at most once a CheckEvery.
				time.Sleep(secretfile.CheckEvery + 100*time.Millisecond)
			}
			calls := z.TotalCalls()

			b.ingestCSV("after", rows(1+n))
			b.wait("the pause and its note on the run, or every row's outcome", 30*time.Second, func() bool {
				p, err := b.store.Paused(b.ctx)
				_, ok := p[jobs.Zitadel]
				r, rerr := b.store.Run(b.ctx, "after")
				return err == nil && rerr == nil && (ok && r.Note != "" || r.Done == n)
			})
			time.Sleep(500 * time.Millisecond) // give a wrongly unpaused worker the chance to end rows
			p, _ := b.store.Paused(b.ctx)
			pz := p[jobs.Zitadel]
			for _, role := range []string{fakeidp.RoleOrgUserManager, fakeidp.RoleIAMUserManager} {
				if !strings.Contains(pz.Reason, role) {
					t.Errorf("pause reason = %q, want it to name %s", pz.Reason, role)
				}
				if fix := pz.Fix(); !strings.HasPrefix(fix, "grant the service user ") || !strings.Contains(fix, role) {
					t.Errorf("pause Fix() = %q, want it to grant %s", fix, role)
				}
			}
			if r, _ := b.store.Run(b.ctx, "after"); !strings.Contains(r.Note, "grant the service user "+fakeidp.RoleOrgUserManager) {
				t.Errorf("run note = %q, want it to say to grant %s", r.Note, fakeidp.RoleOrgUserManager)
			}
			if l := logs.String(); !strings.Contains(l, "next=\"grant the service user "+fakeidp.RoleOrgUserManager) || strings.Contains(l, "credentials or URL") {
				t.Errorf("the pause's log line does not tell to grant %s:\n%s", fakeidp.RoleOrgUserManager, l)
			}
			for line := 2; line <= n+1; line++ {
				if o, ok, err := b.store.Outcome(b.ctx, "after", line); err != nil || ok {
					t.Errorf("Outcome(after, %d) = %s/%s, %v, %v; want the row open", line, o.Outcome, o.Reason, ok, err)
				}
			}
			if r, _ := b.store.Run(b.ctx, "after"); r.Done != 0 {
				t.Errorf("rows done after the rotation = %d, want 0 (counts %v)", r.Done, r.Counts)
			}
			if got := z.TotalCalls(); got != calls {
				t.Errorf("reactivate calls after the rotation = %d, want 0", got-calls)
			}
		})
	}
}
