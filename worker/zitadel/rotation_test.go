// This file tests that a rotated token or key file needs no restart: the file is rotated under a
// running client, the old credential revoked at the fake ZITADEL, and the next call succeeds.

package zitadel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestTokenFileRotationConcurrent401s: calls refused together with the old token all retry
// with the new one, not only the first to read the file again (the others found the file's
// value already changed and took the refusal as fatal, which paused the provider).
func TestTokenFileRotationConcurrent401s(t *testing.T) {
	t.Parallel()
	const org, k = "400907376431008806", 4
	const old, rotated = "pat-old-0123456789", "pat-new-9876543210"
	z := fakeidp.NewZitadel("127.0.0.1")
	z.AddToken(rotated, org)
	for i := range k {
		z.AddUser(fmt.Sprint("u", i), org, fakeidp.ZitadelInactive)
	}
	// Calls with the old token wait for each other, so that all of them are refused before
	// any reads the file again.
	var arrived sync.WaitGroup
	arrived.Add(k)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+old {
			arrived.Done()
			arrived.Wait()
		}
		z.ServeHTTP(w, r)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "zitadel-token")
	writeFile(t, path, []byte(old+"\n"))
	c, err := New(t.Context(), Config{BaseURL: srv.URL, TokenFile: path})
	if err != nil {
		t.Fatal(err)
	}
	before := c.CredentialsID()
	// Same size and time: the client's look at the file sees no change before the 401s.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, []byte(rotated+"\n"))
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	results := make([]jobs.Result, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() {
			results[i] = c.Reactivate(t.Context(), jobs.Row{Line: 2 + i, Provider: jobs.Zitadel, UserID: fmt.Sprint("u", i)})
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.Class != jobs.ClassReactivated {
			t.Errorf("Reactivate(u%d) refused with the old token at the same time as others = %+v, want reactivated", i, res)
		}
	}
	if after := c.CredentialsID(); after == before || after == "" || strings.Contains(after, "pat-") {
		t.Errorf("CredentialsID() after the rotation = %q (before %q), want another digest", after, before)
	}
}

// TestCredentialsIDOfFixedCredentials: credentials from the environment cannot change.
func TestCredentialsIDOfFixedCredentials(t *testing.T) {
	t.Parallel()
	c, err := New(t.Context(), Config{BaseURL: "https://zitadel.example.com", Token: "pat-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if id := c.CredentialsID(); id != "" {
		t.Errorf("CredentialsID() of ZITADEL_TOKEN = %q, want empty", id)
	}
}
