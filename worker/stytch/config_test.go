// This file tests Config validation, base URL defaults, and that no secret leaks out of the package.

package stytch_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"reactivator/internal/fakeidp"
	"reactivator/jobs"
	"reactivator/worker/stytch"
)

func TestNewBaseURLAndEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, project, baseURL string
		wantBase, wantEnv      string
	}{
		{"test default", "project-test-abc", "", "https://test.stytch.com", "test"},
		{"live default", "project-live-abc", "", "https://api.stytch.com", "live"},
		{"override", "project-live-abc", "https://stytch-proxy.example.com/api/", "https://stytch-proxy.example.com/api", "live"},
		{"loopback ip", "project-test-abc", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "test"},
		{"localhost", "project-test-abc", "http://localhost:8080", "http://localhost:8080", "test"},
		{"ipv6 loopback", "project-test-abc", "http://[::1]:8080", "http://[::1]:8080", "test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := stytch.New(stytch.Config{ProjectID: tt.project, Secret: testSecret, BaseURL: tt.baseURL})
			if err != nil {
				t.Fatalf("New(%q, %q) error = %v, want nil", tt.project, tt.baseURL, err)
			}
			if got := c.BaseURL(); got != tt.wantBase {
				t.Errorf("New(%q, %q).BaseURL() = %q, want %q", tt.project, tt.baseURL, got, tt.wantBase)
			}
			if got := c.Env(); got != tt.wantEnv {
				t.Errorf("New(%q).Env() = %q, want %q", tt.project, got, tt.wantEnv)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := stytch.Config{ProjectID: testProject, Secret: testSecret}
	tests := []struct {
		name      string
		edit      func(*stytch.Config)
		wantField string
	}{
		{"empty project", func(c *stytch.Config) { c.ProjectID = "" }, "ProjectID"},
		{"unknown project prefix", func(c *stytch.Config) { c.ProjectID = "project-dev-abc" }, "ProjectID"},
		{"prefix only", func(c *stytch.Config) { c.ProjectID = "project-test-" }, "ProjectID"},
		{"no prefix", func(c *stytch.Config) { c.ProjectID = "abc" }, "ProjectID"},
		{"upper case", func(c *stytch.Config) { c.ProjectID = "Project-Test-abc" }, "ProjectID"},
		{"colon in project", func(c *stytch.Config) { c.ProjectID = "project-test-a:b" }, "ProjectID"},
		{"space in project", func(c *stytch.Config) { c.ProjectID = "project-test-abc " }, "ProjectID"},
		{"swapped", func(c *stytch.Config) { c.ProjectID, c.Secret = c.Secret, c.ProjectID }, "ProjectID"},
		{"empty secret", func(c *stytch.Config) { c.Secret = "" }, "Secret"},
		{"secret with newline", func(c *stytch.Config) { c.Secret += "\n" }, "Secret"},
		{"secret with control", func(c *stytch.Config) { c.Secret = "a\x00b" }, "Secret"},
		{"secret is a project id", func(c *stytch.Config) { c.Secret = "project-test-abc" }, "Secret"},
		{"plain http", func(c *stytch.Config) { c.BaseURL = "http://stytch.example.com" }, "BaseURL"},
		{"plain http private ip", func(c *stytch.Config) { c.BaseURL = "http://10.0.0.1:8080" }, "BaseURL"},
		{"ftp", func(c *stytch.Config) { c.BaseURL = "ftp://stytch.example.com" }, "BaseURL"},
		{"no host", func(c *stytch.Config) { c.BaseURL = "https://" }, "BaseURL"},
		{"query", func(c *stytch.Config) { c.BaseURL = "https://stytch.example.com?x=1" }, "BaseURL"},
		{"user info", func(c *stytch.Config) { c.BaseURL = "https://u:hunter2@stytch.example.com" }, "BaseURL"},
		{"negative timeout", func(c *stytch.Config) { c.Timeout = -1 }, "Timeout"},
		{"session with newline", func(c *stytch.Config) { c.MemberSession = "abc\nX-Evil: 1" }, "MemberSession"},
		{"jwt with space", func(c *stytch.Config) { c.MemberSessionJWT = "a b" }, "MemberSessionJWT"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%v) = %v, want nil", ok, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("Validate(%v) = %v, want an error naming %s", cfg, err, tt.wantField)
			}
			if _, nerr := stytch.New(cfg); nerr == nil {
				t.Errorf("New(%v) error = nil, want %v", cfg, err)
			}
			for _, s := range []string{testSecret, "hunter2", "X-Evil"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("Validate(%v) = %q, want it without %q", cfg, err, s)
				}
			}
		})
	}
}

// leakCheck fails the test when s holds the secret or the Basic credentials that carry it.
func leakCheck(t *testing.T, where, s string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(testProject + ":" + testSecret))
	if strings.Contains(s, testSecret) || strings.Contains(s, basic) {
		t.Errorf("%s = %q, want no secret in it", where, s)
	}
}

func TestSecretNeverInResults(t *testing.T) {
	t.Parallel()
	// A hostile proxy that echoes the request's credentials into every field it can.
	echo := func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "https://x/"+pass)
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]string{
			"request_id": pass, "error_type": pass, "error_message": "auth was " + r.Header.Get("Authorization") + " / " + pass,
		})
		_, _ = w.Write(b)
	}
	handlers := map[string]http.HandlerFunc{"echo": echo}
	for _, c := range stytchCases() {
		handlers[c.Name] = answer(c)
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, h)
			c := newClient(t, f.srv.URL, nil)
			res := c.Reactivate(context.Background(), row(testOrg, testMember))
			leakCheck(t, "Reactivate() Result", fmt.Sprintf("%#v", res))
			if err := c.Check(context.Background()); err != nil {
				leakCheck(t, "Check() error", err.Error())
			}
		})
	}
	t.Run("refused row naming the secret", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, "http://127.0.0.1:1", nil)
		res := c.Reactivate(context.Background(), row(testSecret+"/x", testMember))
		leakCheck(t, "Reactivate(secret in id) Message", res.Message)
		if res.Called {
			t.Errorf("Reactivate(bad id) Called = true, want false")
		}
	})
	t.Run("transport errors", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, "http://127.0.0.1:1", nil)
		res := c.Reactivate(context.Background(), row(testOrg, testMember))
		leakCheck(t, "Reactivate(refused) Message", res.Message)
		if err := c.Check(context.Background()); err == nil {
			t.Errorf("Check() to a closed port = nil, want an error")
		} else {
			leakCheck(t, "Check(refused) error", err.Error())
		}
	})
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	cfg := stytch.Config{ProjectID: testProject, Secret: testSecret, MemberSession: "sess-" + testSecret, MemberSessionJWT: "jwt-" + testSecret}
	c, err := stytch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		leakCheck(t, "Sprintf("+verb+", cfg)", fmt.Sprintf(verb, cfg))
		leakCheck(t, "Sprintf("+verb+", &cfg)", fmt.Sprintf(verb, &cfg))
		leakCheck(t, "Sprintf("+verb+", client)", fmt.Sprintf(verb, c))
	}
	if s := fmt.Sprint(cfg); !strings.Contains(s, testProject) || !strings.Contains(s, "[redacted]") {
		t.Errorf("Sprint(cfg) = %q, want the project id and [redacted]", s)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config", "cfg", cfg, "client", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "client", c)
	leakCheck(t, "slog output", buf.String())
	if !strings.Contains(buf.String(), testProject) {
		t.Errorf("slog output = %q, want the project id", buf.String())
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leakCheck(t, "json.Marshal(cfg)", string(b))
}

func TestReactivateSecretFreeAcrossStatuses(t *testing.T) {
	t.Parallel()
	// Every answer class, through the real transport, with the echoing body: the Result carries no secret.
	for _, status := range []int{200, 201, 301, 400, 401, 403, 404, 405, 429, 500, 503} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, fakeidp.StytchError(status, "x", r.Header.Get("Authorization")))
			})
			res := newClient(t, f.srv.URL, nil).Reactivate(context.Background(), row(testOrg, testMember))
			leakCheck(t, "Reactivate() Result", fmt.Sprintf("%+v", res))
			if res.Class == "" || res.Class == jobs.ClassReactivated {
				t.Errorf("Reactivate() on %d with an error body Class = %q, want a failure class", status, res.Class)
			}
		})
	}
}
