package main

import (
	"fmt"
	"strings"
	"testing"

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
			want:     []string{"stytch: ok (" + wProjectID + ", http://127.0.0.1:", "zitadel: ok (http://127.0.0.1:", ", API v2)"},
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
