// This file tests that a rotated token or key file needs no restart: the file is rotated under a
// running client, the old credential revoked at the fake ZITADEL, and the next call succeeds.

package zitadel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	const org = "400907376431008806"
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddToken("pat-old-0123456789", org)
	for _, id := range []string{"u1", "u2", "u3"} {
		z.AddUser(id, org, fakeidp.ZitadelInactive)
	}
	base, stop := fakeidp.Serve(z)
	defer stop()
	path := filepath.Join(t.TempDir(), "zitadel-token")
	writeFile(t, path, []byte("pat-old-0123456789\n"))
	c, err := New(t.Context(), Config{BaseURL: base, TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	row := func(id string) jobs.Row { return jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: id} }
	if res := c.Reactivate(t.Context(), row("u1")); res.Class != jobs.ClassReactivated {
		t.Fatalf("Reactivate(u1) with the first token = %+v", res)
	}
	// Revoked at ZITADEL, not yet rotated in the file: fatal, and the message holds neither token.
	z.RevokeTokens()
	res := c.Reactivate(t.Context(), row("u2"))
	if res.Class != jobs.ClassFatal || !strings.Contains(res.Message, "ZITADEL_TOKEN_FILE") || strings.Contains(res.Message, "pat-old") {
		t.Fatalf("Reactivate(u2) with a revoked token = %+v, want fatal naming ZITADEL_TOKEN_FILE", res)
	}
	// Rotated: the very next call succeeds, within the second of the last look at the file.
	z.AddToken("pat-new-9876543210", org)
	writeFile(t, path, []byte("pat-new-9876543210\n"))
	if res := c.Reactivate(t.Context(), row("u2")); res.Class != jobs.ClassReactivated {
		t.Errorf("Reactivate(u2) after the rotation = %+v, want reactivated", res)
	}
	if err := c.Check(t.Context()); err != nil {
		t.Errorf("Check() after the rotation = %v", err)
	}
	if a, err := c.ReadAccount(t.Context(), row("u3")); err != nil || a.State != jobs.StateDeactivated {
		t.Errorf("ReadAccount(u3) after the rotation = %+v, %v", a, err)
	}
}

func TestKeyFileRotation(t *testing.T) {
	t.Parallel()
	const org = "400907376431008806"
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddUser("u1", org, fakeidp.ZitadelInactive)
	z.AddUser("u2", org, fakeidp.ZitadelInactive)
	base, stop := fakeidp.Serve(z)
	defer stop()
	key1, err := z.AddKey("400907454377880001", org)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	writeFile(t, path, key1)
	c, err := New(t.Context(), Config{BaseURL: base, KeyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	row := func(id string) jobs.Row { return jobs.Row{Line: 2, Provider: jobs.Zitadel, UserID: id} }
	if res := c.Reactivate(t.Context(), row("u1")); res.Class != jobs.ClassReactivated {
		t.Fatalf("Reactivate(u1) with the first key = %+v", res)
	}
	var k1 fakeidp.KeyFile
	if err := json.Unmarshal(key1, &k1); err != nil {
		t.Fatal(err)
	}
	// The old key deleted and its tokens revoked; a new key written to the same file.
	key2, err := z.AddKey("400907454377880001", org)
	if err != nil {
		t.Fatal(err)
	}
	z.RevokeKey(k1.KeyID)
	z.RevokeTokens()
	writeFile(t, path, key2)
	if res := c.Reactivate(t.Context(), row("u2")); res.Class != jobs.ClassReactivated {
		t.Errorf("Reactivate(u2) after the key rotation = %+v, want reactivated", res)
	}
	var k2 fakeidp.KeyFile
	_ = json.Unmarshal(key2, &k2)
	if msg := c.scrub("x "+k1.Key+" "+k2.Key, ""); strings.Contains(msg, "PRIVATE KEY") {
		t.Errorf("scrub does not hide both keys: %q", msg)
	}
	// Neither key usable any more: fatal, naming the key file.
	z.RevokeKey(k2.KeyID)
	z.RevokeTokens()
	z.AddUser("u1", org, fakeidp.ZitadelInactive)
	res := c.Reactivate(t.Context(), row("u1"))
	if res.Class != jobs.ClassFatal || !strings.Contains(res.Message, "ZITADEL_KEY_FILE") {
		t.Errorf("Reactivate with a deleted key = %+v, want fatal naming ZITADEL_KEY_FILE", res)
	}
	if err := c.Check(t.Context()); !errors.Is(err, jobs.ErrFatal) {
		t.Errorf("Check() with a deleted key = %v, want fatal", err)
	}
}
