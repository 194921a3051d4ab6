// This file tests Config's validation and that printing a Config shows no secret.

package zitadel

import (
	"fmt"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	base := "https://acme.zitadel.cloud"
	tests := []struct {
		name   string
		cfg    Config
		wantIn string // "" means valid
	}{
		{name: "token", cfg: Config{BaseURL: base, Token: testPAT}},
		{name: "token v1 with default org", cfg: Config{BaseURL: base, API: "v1", Token: testPAT, DefaultOrgID: "400907376431008806"}},
		{name: "client credentials", cfg: Config{BaseURL: base, ClientID: testClientID, ClientSecret: testClientSecret}},
		{name: "key file", cfg: Config{BaseURL: base, KeyFile: "/etc/reactivator/key.json"}},
		{name: "key json", cfg: Config{BaseURL: base, KeyJSON: []byte(`{}`)}},
		{name: "http to loopback", cfg: Config{BaseURL: "http://localhost:8080", Token: testPAT}},
		{name: "empty base url", cfg: Config{Token: testPAT}, wantIn: "ZITADEL_URL"},
		{name: "plain http", cfg: Config{BaseURL: "http://acme.zitadel.cloud", Token: testPAT}, wantIn: "ZITADEL_URL"},
		{name: "no host", cfg: Config{BaseURL: "acme.zitadel.cloud", Token: testPAT}, wantIn: "ZITADEL_URL"},
		{name: "query in base url", cfg: Config{BaseURL: base + "?x=1", Token: testPAT}, wantIn: "ZITADEL_URL"},
		{name: "unknown api", cfg: Config{BaseURL: base, API: "v3", Token: testPAT}, wantIn: "ZITADEL_API"},
		{name: "no credentials", cfg: Config{BaseURL: base}, wantIn: "ZITADEL_TOKEN"},
		{name: "token and key file", cfg: Config{BaseURL: base, Token: testPAT, KeyFile: "k.json"}, wantIn: "ZITADEL_TOKEN, ZITADEL_KEY_FILE"},
		{name: "token and client", cfg: Config{BaseURL: base, Token: testPAT, ClientID: testClientID, ClientSecret: testClientSecret}, wantIn: "exactly one"},
		{name: "client id without secret", cfg: Config{BaseURL: base, ClientID: testClientID}, wantIn: "ZITADEL_CLIENT_SECRET"},
		{name: "secret without client id", cfg: Config{BaseURL: base, ClientSecret: testClientSecret}, wantIn: "ZITADEL_CLIENT_ID"},
		{name: "key file and key json", cfg: Config{BaseURL: base, KeyFile: "k.json", KeyJSON: []byte(`{}`)}, wantIn: "KeyJSON"},
		{name: "negative timeout", cfg: Config{BaseURL: base, Token: testPAT, Timeout: -1}, wantIn: "Timeout"},
		{name: "org id with a newline", cfg: Config{BaseURL: base, Token: testPAT, DefaultOrgID: "1\nX-Evil: 1"}, wantIn: "ZITADEL_ORG_ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			switch {
			case tc.wantIn == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantIn != "" && (err == nil || !strings.Contains(err.Error(), tc.wantIn)):
				t.Errorf("Validate() = %v, want an error naming %q", err, tc.wantIn)
			}
			if err != nil {
				assertNoSecret(t, "Validate error", err.Error(), testPAT, testClientSecret)
				if _, nerr := New(t.Context(), tc.cfg); nerr == nil {
					t.Errorf("New() = nil error, want Validate's %v", err)
				}
			}
		})
	}
}

func TestConfigPrintsNoSecret(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{BaseURL: "https://acme.zitadel.cloud", Token: testPAT},
		{BaseURL: "https://acme.zitadel.cloud", ClientID: testClientID, ClientSecret: testClientSecret},
		{BaseURL: "https://acme.zitadel.cloud", KeyJSON: []byte(`{"key":"-----BEGIN RSA PRIVATE KEY-----MIIEow"}`)},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(verb, cfg)
			assertNoSecret(t, "Sprintf("+verb+", cfg)", s, testPAT, testClientSecret, "MIIEow")
			if !strings.Contains(s, "acme.zitadel.cloud") {
				t.Errorf("Sprintf(%s, cfg) = %q, want the base URL", verb, s)
			}
		}
	}
}
