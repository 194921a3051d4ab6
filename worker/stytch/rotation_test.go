// This file tests that a rotated secret file needs no restart: the file is rotated under a
// running client, the old secret revoked at the fake Stytch, and the next call succeeds.

package stytch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestSecretFileRotation(t *testing.T) {
	t.Parallel()
	const oldSecret, newSecret = "secret-test-old-0123456789abcdef", "secret-test-new-fedcba9876543210"
	s := fakeidp.NewStytch(testProject, oldSecret)
	for _, m := range []string{"member-test-1", "member-test-2", "member-test-3"} {
		s.AddMember(testOrg, m, fakeidp.StytchDeleted, true)
	}
	base, stop := fakeidp.Serve(s)
	defer stop()
	path := filepath.Join(t.TempDir(), "stytch-secret")
	write := func(v string) {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(oldSecret)
	c := newClient(t, base, func(cfg *stytch.Config) { cfg.Secret, cfg.SecretFile = oldSecret, path })
	if res := c.Reactivate(t.Context(), row(testOrg, "member-test-1")); res.Class != jobs.ClassReactivated {
		t.Fatalf("Reactivate with the first secret = %+v", res)
	}
	// Revoked at Stytch, not yet rotated in the file: fatal.
	s.SetSecret(newSecret)
	if res := c.Reactivate(t.Context(), row(testOrg, "member-test-2")); res.Class != jobs.ClassFatal {
		t.Fatalf("Reactivate with a revoked secret = %+v, want fatal", res)
	}
	// Rotated: the next call succeeds, within the second of the last look at the file.
	write(newSecret)
	res := c.Reactivate(t.Context(), row(testOrg, "member-test-2"))
	if res.Class != jobs.ClassReactivated {
		t.Errorf("Reactivate after the rotation = %+v, want reactivated", res)
	}
	if err := c.Check(t.Context()); err != nil {
		t.Errorf("Check() after the rotation = %v", err)
	}
	if a, err := c.ReadAccount(t.Context(), row(testOrg, "member-test-3")); err != nil || a.State != jobs.StateDeactivated {
		t.Errorf("ReadAccount after the rotation = %+v, %v", a, err)
	}
	// Revoked again without a rotation: fatal, and no text holds either secret.
	s.SetSecret("secret-test-third-000000000000000")
	err := c.Check(t.Context())
	if !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check() with a revoked secret = %v, want fatal", err)
	}
	for _, text := range []string{err.Error(), c.Reactivate(t.Context(), row(testOrg, "member-test-3")).Message, c.String()} {
		if strings.Contains(text, oldSecret) || strings.Contains(text, newSecret) {
			t.Errorf("%q holds a secret", text)
		}
	}
}
