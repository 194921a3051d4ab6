// This file defines Config, what the ZITADEL client needs to know, and its validation.

package zitadel

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"reactivator/internal/httpapi"
)

// The APIs a Client can call.
const (
	// APIv2 is POST {base}/v2/users/{user_id}/reactivate, the default.
	APIv2 = "v2"
	// APIv1 is the deprecated POST {base}/management/v1/users/{id}/_reactivate.
	APIv1 = "v1"
)

// Config configures a Client. Exactly one auth method must be set: Token, ClientID with
// ClientSecret, or KeyFile (or KeyJSON).
type Config struct {
	// BaseURL is ZITADEL_URL, the instance's external domain (ZITADEL picks the instance by the
	// Host header). https, or http only to loopback.
	BaseURL string
	// API is "v2" (the default when empty) or "v1".
	API string
	// Token is a personal access token of a service user (ZITADEL_TOKEN), sent as a static bearer.
	Token string
	// TokenFile, when set, is the file the token is read from (ZITADEL_TOKEN_FILE), instead of
	// Token: the client reads it again when it changes (size or modification time, looked at at
	// most once a second) and when ZITADEL answers 401, so a rotated token needs no restart.
	TokenFile string
	// ClientID and ClientSecret are a service user's client credentials (ZITADEL_CLIENT_ID,
	// ZITADEL_CLIENT_SECRET), exchanged at {base}/oauth/v2/token.
	ClientID, ClientSecret string
	// KeyFile is the path of a service user's JSON key file (ZITADEL_KEY_FILE) for the JWT profile
	// grant. It is read again when it changes, as TokenFile.
	KeyFile string
	// KeyJSON is the same key file's content, when already read; set KeyFile or KeyJSON, not both.
	KeyJSON []byte
	// DefaultOrgID is ZITADEL_ORG_ID, the x-zitadel-orgid header of v1 calls for rows without an
	// org_id. Empty sends no header (the service user's own organisation). v2 sends no org header.
	DefaultOrgID string
	// Timeout bounds one call (a token fetch is a call of its own); 0 means httpapi.DefaultTimeout.
	Timeout time.Duration
	// HTTPClient, when set, makes every call, token fetches included. Nil means
	// httpapi.NewClient(Timeout), which never follows a redirect.
	HTTPClient *http.Client
}

// Validate checks the config without reading files or calling anything. Its errors name the
// field and the environment variable at fault.
func (c Config) Validate() error {
	if strings.TrimSpace(c.BaseURL) == "" {
		return errors.New("zitadel: BaseURL (ZITADEL_URL) is empty: set it to the instance's domain, e.g. https://acme.zitadel.cloud")
	}
	if _, err := httpapi.ParseBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("zitadel: BaseURL (ZITADEL_URL): %w", err)
	}
	switch c.API {
	case "", APIv2, APIv1:
	default:
		return fmt.Errorf("zitadel: API (ZITADEL_API) %q: want v2 or v1", c.API)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("zitadel: Timeout %v is negative", c.Timeout)
	}
	if strings.ContainsFunc(c.DefaultOrgID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("zitadel: DefaultOrgID (ZITADEL_ORG_ID) contains whitespace or a control character")
	}
	var methods []string
	if c.Token != "" || c.TokenFile != "" {
		methods = append(methods, "ZITADEL_TOKEN")
	}
	if c.ClientID != "" || c.ClientSecret != "" {
		methods = append(methods, "ZITADEL_CLIENT_ID/ZITADEL_CLIENT_SECRET")
	}
	if c.KeyFile != "" || len(c.KeyJSON) > 0 {
		methods = append(methods, "ZITADEL_KEY_FILE")
	}
	switch len(methods) {
	case 0:
		return errors.New("zitadel: no credentials: set one of Token (ZITADEL_TOKEN), ClientID and ClientSecret (ZITADEL_CLIENT_ID, ZITADEL_CLIENT_SECRET) or KeyFile (ZITADEL_KEY_FILE)")
	case 1:
	default:
		return fmt.Errorf("zitadel: more than one auth method set (%s): set exactly one", strings.Join(methods, ", "))
	}
	if c.ClientID != "" && c.ClientSecret == "" {
		return errors.New("zitadel: ClientID (ZITADEL_CLIENT_ID) is set but ClientSecret (ZITADEL_CLIENT_SECRET) is empty")
	}
	if c.ClientID == "" && c.ClientSecret != "" {
		return errors.New("zitadel: ClientSecret (ZITADEL_CLIENT_SECRET) is set but ClientID (ZITADEL_CLIENT_ID) is empty")
	}
	if c.KeyFile != "" && len(c.KeyJSON) > 0 {
		return errors.New("zitadel: set KeyFile (ZITADEL_KEY_FILE) or KeyJSON, not both")
	}
	return nil
}

// api returns the API to call, v2 when unset.
func (c Config) api() string {
	if c.API == "" {
		return APIv2
	}
	return c.API
}

// String describes the config without its secrets, so a config printed by mistake leaks nothing.
func (c Config) String() string {
	auth := "none"
	switch {
	case c.Token != "" || c.TokenFile != "":
		auth = "personal access token"
	case c.ClientID != "":
		auth = fmt.Sprintf("client credentials of %q", c.ClientID)
	case c.KeyFile != "":
		auth = fmt.Sprintf("key file %s", c.KeyFile)
	case len(c.KeyJSON) > 0:
		auth = "key file content"
	}
	return fmt.Sprintf("zitadel.Config{BaseURL: %q, API: %q, auth: %s, DefaultOrgID: %q, Timeout: %v}", c.BaseURL, c.api(), auth, c.DefaultOrgID, c.Timeout)
}

// GoString is String, so that %#v leaks no secret either.
func (c Config) GoString() string { return c.String() }
