package config

import (
	"fmt"
	"strings"
)

// Var is an environment variable the program reads, with what it means.
type Var struct {
	Name, Help string
}

// Vars is every environment variable the program reads. A test parses the program's files and
// fails when one reads a variable that is not here; others fail when docker-compose.yml,
// .env.example or the deploy kits set one that is not.
var Vars = []Var{
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
	{"REACTIVATOR_STATE_DIR", "where run and undo keep their embedded Redis (default $XDG_STATE_HOME/reactivator/redis, else ~/.local/state/reactivator/redis)"},
	{"REACTIVATOR_DASH_USER", "dash basic-auth user"},
	{"REACTIVATOR_DASH_PASSWORD", "dash basic-auth password (or REACTIVATOR_DASH_PASSWORD_FILE)"},
	{"REACTIVATOR_DASH_PASSWORD_FILE", "file holding the dash basic-auth password"},
}

// Known reports whether the program reads the variable name.
func Known(name string) bool {
	for _, v := range Vars {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Help is the Environment section of the root command's help.
func Help() string {
	var sb strings.Builder
	sb.WriteString("Environment (flags win over it; secrets only from here or from files):\n")
	for _, v := range Vars {
		fmt.Fprintf(&sb, "  %-31s %s\n", v.Name, v.Help)
	}
	return strings.TrimRight(sb.String(), "\n")
}
