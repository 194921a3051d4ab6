// Config is responsible for a Stytch client's settings, their defaults and their validation.

package stytch

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"reactivator/internal/httpapi"
)

// Base URLs per project environment (docs/providers.md).
const (
	TestBaseURL = "https://test.stytch.com"
	LiveBaseURL = "https://api.stytch.com"
)

// Config configures a Client. The zero value is not usable: ProjectID and Secret are required.
//
// A Config never prints its secrets: fmt, %#v, log/slog and encoding/json all show them redacted
// or leave them out.
type Config struct {
	// ProjectID is the Stytch project id, project-test-… or project-live-…; anything else is
	// refused rather than guessed (stytch-go silently sends every non-live id to test).
	ProjectID string
	// Secret is the project's secret. It is never logged, never in an error, never in String.
	Secret string `json:"-"`
	// SecretFile, when set, is the file Secret was read from (STYTCH_SECRET_FILE): the client
	// reads it again when it changes (size or modification time, looked at at most once a
	// second) and on every 401 before it counts, so a rotated secret needs no restart. Secret
	// may then be empty.
	SecretFile string
	// BaseURL overrides the API's base URL (a fake provider, a proxy). "" means
	// https://test.stytch.com for project-test- ids and https://api.stytch.com for project-live-.
	// Plain http is refused except to a loopback host.
	BaseURL string
	// Timeout bounds one call, connection to last byte; 0 means httpapi.DefaultTimeout.
	Timeout time.Duration
	// MemberSession, if set, is sent as X-Stytch-Member-Session: the call then runs with that
	// member's RBAC permissions. A backend tool with project credentials does not need it.
	MemberSession string `json:"-"`
	// MemberSessionJWT, if set, is sent as X-Stytch-Member-SessionJWT, like MemberSession.
	MemberSessionJWT string `json:"-"`
	// HTTPClient, if set, sends the calls; nil means httpapi.NewClient(Timeout). A client of your
	// own should not follow redirects (httpapi.NewClient does not). Timeout bounds each call
	// either way.
	HTTPClient *http.Client `json:"-"`
}

// Validate checks the config and returns an error naming the field at fault. The error never
// holds the secret or a session token.
func (c Config) Validate() error {
	if _, err := projectEnv(c.ProjectID); err != nil {
		return err
	}
	switch {
	case c.Secret == "" && c.SecretFile != "":
		// New reads the file.
	case c.Secret == "":
		return errors.New("stytch config: Secret is empty (set STYTCH_SECRET or STYTCH_SECRET_FILE)")
	case strings.TrimSpace(c.Secret) != c.Secret:
		return errors.New("stytch config: Secret has leading or trailing whitespace (a newline from a file?)")
	case strings.IndexFunc(c.Secret, unicode.IsControl) >= 0:
		return errors.New("stytch config: Secret contains a control character")
	case strings.HasPrefix(c.Secret, "project-"):
		return errors.New("stytch config: Secret looks like a project id: are STYTCH_PROJECT_ID and STYTCH_SECRET swapped?")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err == nil && u.User != nil {
			// Said without the URL: its user info may hold a password.
			return errors.New("stytch config: BaseURL (STYTCH_BASE_URL) must not carry user info (user:password@)")
		}
		if _, err := httpapi.ParseBaseURL(c.BaseURL); err != nil {
			return fmt.Errorf("stytch config: BaseURL (STYTCH_BASE_URL): %w", err)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("stytch config: Timeout %v is negative (0 means %v)", c.Timeout, httpapi.DefaultTimeout)
	}
	for _, h := range []struct{ field, v string }{{"MemberSession", c.MemberSession}, {"MemberSessionJWT", c.MemberSessionJWT}} {
		if strings.IndexFunc(h.v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
			return fmt.Errorf("stytch config: %s contains whitespace or a control character", h.field)
		}
	}
	return nil
}

// projectEnv returns "test" or "live" for a valid project id, else an error naming ProjectID.
func projectEnv(id string) (string, error) {
	bad := func(why string) error { return fmt.Errorf("stytch config: ProjectID %s", why) }
	switch {
	case id == "":
		return "", bad("is empty (set STYTCH_PROJECT_ID)")
	case strings.HasPrefix(id, "secret-"):
		// Not echoed: it is most likely the secret.
		return "", bad("looks like a secret: are STYTCH_PROJECT_ID and STYTCH_SECRET swapped?")
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == ':' }) >= 0:
		return "", bad("contains whitespace, a control character or a colon")
	}
	for _, env := range []string{"test", "live"} {
		if rest, ok := strings.CutPrefix(id, "project-"+env+"-"); ok && rest != "" {
			return env, nil
		}
	}
	// Not echoed either: a mistyped value may be the secret.
	return "", bad("must start with project-test- or project-live-")
}

// String describes the config without its secrets.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stytch.Config{ProjectID: %q, Secret: %s, BaseURL: %q, Timeout: %v", c.ProjectID, redacted(c.Secret), c.BaseURL, c.Timeout)
	if c.MemberSession != "" {
		b.WriteString(", MemberSession: [redacted]")
	}
	if c.MemberSessionJWT != "" {
		b.WriteString(", MemberSessionJWT: [redacted]")
	}
	if c.HTTPClient != nil {
		b.WriteString(", HTTPClient: set")
	}
	b.WriteString("}")
	return b.String()
}

// Format prints String for every verb, %#v and %d included, so no verb reaches the secret.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the config without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("project_id", c.ProjectID),
		slog.String("secret", redacted(c.Secret)),
		slog.String("base_url", c.BaseURL),
		slog.Duration("timeout", c.Timeout),
		slog.Bool("member_session", c.MemberSession != "" || c.MemberSessionJWT != ""),
	)
}

// redacted says whether a secret is set without showing it.
func redacted(s string) string {
	if s == "" {
		return "[empty]"
	}
	return "[redacted]"
}
