// This file lists, in one place, every environment variable the program reads: the root
// command's help shows them, and tests hold the code and docker-compose.yml to the list.

package main

import (
	"fmt"
	"strings"
)

// envVar is an environment variable the program reads, with what it means.
type envVar struct {
	name, help string
}

// knownEnv is every environment variable the program reads. A test parses the command files and
// fails when one reads a variable that is not here; another fails when docker-compose.yml or
// .env.example sets one that is not.
var knownEnv = []envVar{
	{"REDIS_URL", "Redis: redis://, rediss://, unix://, redis-sentinel://, redis-cluster:// (rediss-… with TLS; run and demo embed one when unset)"},
	{"REDIS_CA_FILE", "CA certificate file for rediss://"},
	{"STYTCH_PROJECT_ID", "Stytch project id (project-live-… or project-test-…)"},
	{"STYTCH_SECRET", "Stytch secret (or STYTCH_SECRET_FILE: a file holding it)"},
	{"STYTCH_SECRET_FILE", "file holding the Stytch secret"},
	{"STYTCH_BASE_URL", "Stytch API base URL (default from the project id)"},
	{"ZITADEL_URL", "ZITADEL instance URL, e.g. https://acme.zitadel.cloud"},
	{"ZITADEL_API", "ZITADEL API: v2 (default) or v1"},
	{"ZITADEL_TOKEN", "ZITADEL personal access token (or ZITADEL_TOKEN_FILE)"},
	{"ZITADEL_TOKEN_FILE", "file holding the ZITADEL personal access token"},
	{"ZITADEL_CLIENT_ID", "ZITADEL client-credentials client id"},
	{"ZITADEL_CLIENT_SECRET", "ZITADEL client-credentials secret"},
	{"ZITADEL_KEY_FILE", "ZITADEL service-user key file (JWT profile)"},
	{"ZITADEL_ORG_ID", "x-zitadel-orgid for v1 rows without org_id"},
	{"REACTIVATOR_RATE", "per-provider rate limits, e.g. stytch=50,zitadel=40"},
	{"REACTIVATOR_STATE_DIR", "where run and demo keep their embedded Redis"},
	{"REACTIVATOR_DASH_USER", "dash basic-auth user"},
	{"REACTIVATOR_DASH_PASSWORD", "dash basic-auth password (or REACTIVATOR_DASH_PASSWORD_FILE)"},
	{"REACTIVATOR_DASH_PASSWORD_FILE", "file holding the dash basic-auth password"},
}

// isKnownEnv reports whether the program reads the variable name.
func isKnownEnv(name string) bool {
	for _, e := range knownEnv {
		if e.name == name {
			return true
		}
	}
	return false
}

// envHelp is the Environment section of the root command's help.
func envHelp() string {
	var sb strings.Builder
	sb.WriteString("Environment (flags win over it; secrets only from here or from files):\n")
	for _, e := range knownEnv {
		fmt.Fprintf(&sb, "  %-31s %s\n", e.name, e.help)
	}
	return strings.TrimRight(sb.String(), "\n")
}
