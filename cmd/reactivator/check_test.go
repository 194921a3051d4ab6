package main

import (
	"fmt"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/internal/redistest"
)

// closedURL returns a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      func(w *cliWorld)
		wantCode int
		want     []string
	}{
		{
			name:     "both good",
			wantCode: exitOK,
			want:     []string{"stytch: ok (" + wProjectID + ", http://127.0.0.1:", "zitadel: ok (http://127.0.0.1:", ", API v2; the service user may reactivate users in every organisation"},
		},
		{
			name:     "stytch secret refused",
			env:      func(w *cliWorld) { w.stytch.SetSecret("secret-test-rotated-elsewhere-0123456789") },
			wantCode: exitFatal,
			want:     []string{"stytch: credentials refused:", "check STYTCH_PROJECT_ID and STYTCH_SECRET", "zitadel: ok", "stytch refused the credentials"},
		},
		{
			name:     "zitadel token revoked",
			env:      func(w *cliWorld) { w.zitadel.RevokeTokens() },
			wantCode: exitFatal,
			want:     []string{"stytch: ok", "zitadel: credentials refused:", "zitadel refused the credentials"},
		},
		{
			name: "zitadel service user without a role",
			env: func(w *cliWorld) {
				w.zitadel.AddServiceUser("zitadel-pat-of-a-role-less-service-user", "400907376431008806")
				w.setenv("ZITADEL_TOKEN", "zitadel-pat-of-a-role-less-service-user")
			},
			wantCode: exitFatal,
			want:     []string{"stytch: ok", "zitadel: credentials refused:", "has no role at all", "ORG_USER_MANAGER", "IAM_USER_MANAGER"},
		},
		{
			name: "zitadel viewer",
			env: func(w *cliWorld) {
				w.zitadel.AddServiceUser("zitadel-pat-of-a-viewer-service-user", "400907376431008806",
					fakeidp.Membership{OrgID: "400907376431008806", Roles: []string{fakeidp.RoleOrgOwnerViewer}})
				w.setenv("ZITADEL_TOKEN", "zitadel-pat-of-a-viewer-service-user")
			},
			wantCode: exitFatal,
			want:     []string{"zitadel: credentials refused:", "no user.write anywhere", "IAM_USER_MANAGER"},
		},
		{
			name: "zitadel org user manager",
			env: func(w *cliWorld) {
				w.zitadel.AddServiceUser("zitadel-pat-of-an-org-user-manager", "400907376431008806",
					fakeidp.Membership{OrgID: "400907376431008806", Roles: []string{fakeidp.RoleOrgUserManager}})
				w.setenv("ZITADEL_TOKEN", "zitadel-pat-of-an-org-user-manager")
			},
			wantCode: exitOK,
			want:     []string{"zitadel: ok (", "may reactivate users in organisation 400907376431008806"},
		},
		{
			name:     "stytch unreachable",
			env:      func(w *cliWorld) { w.setenv("STYTCH_BASE_URL", closedURL(w.t)) },
			wantCode: exitError,
			want:     []string{"stytch: not reachable or not answering:", "zitadel: ok", "stytch could not be checked"},
		},
		{
			name: "only zitadel configured",
			env: func(w *cliWorld) {
				for _, k := range []string{"STYTCH_PROJECT_ID", "STYTCH_SECRET", "STYTCH_BASE_URL"} {
					w.setenv(k, "")
				}
			},
			wantCode: exitOK,
			want:     []string{"zitadel: ok"},
		},
		{
			name: "none configured",
			env: func(w *cliWorld) {
				for _, k := range []string{"STYTCH_PROJECT_ID", "STYTCH_SECRET", "STYTCH_BASE_URL", "ZITADEL_URL", "ZITADEL_TOKEN"} {
					w.setenv(k, "")
				}
			},
			wantCode: exitError,
			want:     []string{"no provider is configured", "STYTCH_PROJECT_ID", "ZITADEL_URL"},
		},
		{
			name:     "incomplete stytch config",
			env:      func(w *cliWorld) { w.setenv("STYTCH_PROJECT_ID", "") },
			wantCode: exitError,
			want:     []string{"STYTCH_PROJECT_ID"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCLIWorld(t)
			if tc.env != nil {
				tc.env(w)
			}
			r := w.run("check")
			if r.code != tc.wantCode {
				t.Fatalf("check = %s\nwant exit %d", r, tc.wantCode)
			}
			out := r.stdout + r.stderr
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("check output lacks %q:\n%s", s, r)
				}
			}
		})
	}
}

func TestCheckRejectsArgs(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	if r := w.run("check", "stytch"); r.code != exitUsage {
		t.Errorf("check stytch = %s\nwant exit %d", r, exitUsage)
	}
}
