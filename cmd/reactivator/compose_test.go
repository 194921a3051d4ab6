package main

// These tests hold docker-compose.yml, .env.example, the Dockerfile and deploy/schedules.yaml to
// what the program reads and to the deployment's promises, without a Docker engine: the compose
// file is loaded with the compose-spec loader that docker compose itself uses.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"reactivator/internal/config"
	"reactivator/internal/dash"
	"reactivator/internal/schedule"
)

// repoRoot is the checkout's top directory, seen from this package.
const repoRoot = "../.."

// composeOnlyEnv are variables .env.example sets for docker compose itself, not for the program.
var composeOnlyEnv = []string{"COMPOSE_PROFILES", "REACTIVATOR_VERSION", "REACTIVATOR_DASH_PORT"}

// loadCompose loads docker-compose.yml with the given profiles, hermetically: no environment of
// the test's, no .env of the developer's.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	return loadComposeEnv(t, nil, profiles...)
}

// loadComposeEnv is loadCompose with env ("NAME=value") as the environment docker compose
// interpolates the file with (the shell's and .env's variables).
func loadComposeEnv(t *testing.T, env []string, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithoutEnvironmentResolution,
		cli.WithResolvedPaths(false),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := opts.LoadProject(ctx)
	if err != nil {
		t.Fatalf("load docker-compose.yml (profiles %v) = %v", profiles, err)
	}
	return p
}

func serviceNames(p *types.Project) []string {
	var names []string
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func TestComposeServicesPerProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profiles []string
		want     []string
	}{
		{nil, []string{"dash", "redis", "scheduler"}},
		{[]string{"live"}, []string{"dash", "redis", "scheduler", "worker"}},
		{[]string{"demo"}, []string{"dash", "demo-worker", "fakeidp", "redis", "scheduler"}},
	} {
		t.Run(strings.Join(append([]string{"profiles"}, tc.profiles...), "-"), func(t *testing.T) {
			t.Parallel()
			if got := serviceNames(loadCompose(t, tc.profiles...)); !slices.Equal(got, tc.want) {
				t.Errorf("services with profiles %v = %v, want %v", tc.profiles, got, tc.want)
			}
		})
	}
}

func TestComposeRedis(t *testing.T) {
	t.Parallel()
	redis := loadCompose(t).Services["redis"]
	if !strings.HasPrefix(redis.Image, "redis:7") {
		t.Errorf("redis image = %q, want redis:7", redis.Image)
	}
	cmd := strings.Join(redis.Command, " ")
	if !strings.Contains(cmd, "--appendonly yes") {
		t.Errorf("redis command = %q, want --appendonly yes", cmd)
	}
	if !slices.ContainsFunc(redis.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Type == "volume" && v.Target == "/data" }) {
		t.Errorf("redis volumes = %+v, want a named volume on /data (its append-only file)", redis.Volumes)
	}
	if hc := redis.HealthCheck; hc == nil || strings.Join(hc.Test, " ") != "CMD redis-cli ping" {
		t.Errorf("redis healthcheck = %+v, want CMD redis-cli ping", hc)
	}
}

func TestComposeReactivatorServices(t *testing.T) {
	t.Parallel()
	all := loadCompose(t, "live", "demo")
	for name, svc := range all.Services {
		if name == "redis" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var build types.BuildConfig
			if svc.Build != nil {
				build = *svc.Build
			}
			if build.Context != "." || build.Dockerfile != "Dockerfile" || !strings.HasPrefix(svc.Image, "reactivator:") {
				t.Errorf("%s: build context %q, Dockerfile %q, image %q; want built from the repository's Dockerfile as reactivator:<version>",
					name, build.Context, build.Dockerfile, svc.Image)
			}
			if !svc.ReadOnly || !slices.Contains(svc.CapDrop, "ALL") {
				t.Errorf("%s: read_only %v, cap_drop %v; want a read-only root and no capabilities", name, svc.ReadOnly, svc.CapDrop)
			}
			if name != "fakeidp" {
				if d, ok := svc.DependsOn["redis"]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("%s: depends_on redis = %+v, want condition service_healthy", name, d)
				}
				if u := svc.Environment["REDIS_URL"]; u == nil || *u != "redis://redis:6379/0" {
					t.Errorf("%s: REDIS_URL = %v, want redis://redis:6379/0", name, u)
				}
			}
			for _, port := range svc.Ports {
				if port.HostIP != "127.0.0.1" {
					t.Errorf("%s: publishes port %s on %q, want 127.0.0.1 only", name, port.Published, port.HostIP)
				}
			}
			if len(svc.Command) == 0 {
				t.Errorf("%s: no command", name)
			}
		})
	}
	for _, name := range []string{"worker", "demo-worker"} {
		svc := all.Services[name]
		if svc.Deploy == nil || svc.Deploy.Replicas == nil || *svc.Deploy.Replicas != 2 {
			t.Errorf("%s: deploy.replicas = %+v, want 2", name, svc.Deploy)
		}
		if svc.Command[0] != "worker" {
			t.Errorf("%s: command = %v, want worker", name, svc.Command)
		}
	}
	dash := all.Services["dash"]
	if len(dash.Ports) != 1 || dash.Ports[0].Published != "8080" || dash.Ports[0].HostIP != "127.0.0.1" {
		t.Errorf("dash ports = %+v, want 127.0.0.1:8080", dash.Ports)
	}
	sched := all.Services["scheduler"]
	if !slices.Equal(sched.Command[:1], []string{"scheduler"}) || !slices.ContainsFunc(sched.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == "bind" && strings.HasSuffix(v.Source, "deploy/schedules.yaml") && v.ReadOnly
	}) {
		t.Errorf("scheduler: command %v, volumes %+v; want scheduler with deploy/schedules.yaml mounted read-only", sched.Command, sched.Volumes)
	}
	// The scheduler's config names directories on the data volume, which the workers mount too.
	for _, name := range []string{"scheduler", "worker", "demo-worker"} {
		if !slices.ContainsFunc(all.Services[name].Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == "data" && v.Target == "/data" }) {
			t.Errorf("%s: volumes %+v, want the data volume on /data (inboxes and reports)", name, all.Services[name].Volumes)
		}
	}
}

func TestComposeDemoWiresTheFakes(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "demo")
	fake, worker := p.Services["fakeidp"], p.Services["demo-worker"]
	if !slices.Equal(fake.Profiles, []string{"demo"}) || !slices.Equal(worker.Profiles, []string{"demo"}) {
		t.Errorf("profiles of fakeidp, demo-worker = %v, %v; want demo", fake.Profiles, worker.Profiles)
	}
	if fake.Command[0] != "fakeidp" || fake.HealthCheck == nil || !slices.Contains(fake.HealthCheck.Test, "--probe") {
		t.Errorf("fakeidp: command %v, healthcheck %+v; want fakeidp with a --probe healthcheck", fake.Command, fake.HealthCheck)
	}
	if d := worker.DependsOn["fakeidp"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("demo-worker depends_on fakeidp = %+v, want service_healthy", d)
	}
	// The workers share the fake's network, so its loopback addresses are theirs.
	if worker.NetworkMode != "service:fakeidp" {
		t.Errorf("demo-worker network_mode = %q, want service:fakeidp", worker.NetworkMode)
	}
	flag := func(args []string, name string) string {
		if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
			return args[i+1]
		}
		return ""
	}
	for _, tc := range []struct{ env, flag string }{{"STYTCH_BASE_URL", "--stytch-addr"}, {"ZITADEL_URL", "--zitadel-addr"}} {
		v := worker.Environment[tc.env]
		addr := flag(fake.Command, tc.flag)
		if v == nil || addr == "" {
			t.Errorf("demo-worker %s = %v, fakeidp %s = %q; want both set", tc.env, v, tc.flag, addr)
			continue
		}
		u, err := url.Parse(*v)
		if err != nil || u.Host != addr || u.Scheme != "http" || !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("demo-worker %s = %q, want http://%s (the fake, on loopback)", tc.env, *v, addr)
		}
	}
	// The secret and token the fake makes up reach the workers as files, on a shared volume.
	creds := flag(fake.Command, "--credentials-dir")
	for _, env := range []string{"STYTCH_SECRET_FILE", "ZITADEL_TOKEN_FILE"} {
		if v := worker.Environment[env]; v == nil || filepath.Dir(*v) != creds {
			t.Errorf("demo-worker %s = %v, want a file in the fake's --credentials-dir %s", env, v, creds)
		}
	}
	if fp, wp := fake.Environment["STYTCH_PROJECT_ID"], worker.Environment["STYTCH_PROJECT_ID"]; fp == nil || wp == nil || *fp != *wp || !strings.HasPrefix(*fp, "project-test-") {
		t.Errorf("STYTCH_PROJECT_ID of fakeidp, demo-worker = %v, %v; want the same project-test- id", fp, wp)
	}
	if inbox := flag(fake.Command, "--write-csv"); !strings.HasPrefix(inbox, "/data/inbox") {
		t.Errorf("fakeidp --write-csv = %q, want the inbox on the data volume", inbox)
	}
	// The demo's command lines are ones the program accepts.
	for _, args := range [][]string{fake.Command, worker.Command, p.Services["scheduler"].Command, p.Services["dash"].Command} {
		if _, _, err := (&app{}).rootCmd().Find(args); err != nil {
			t.Errorf("command %v: %v", args, err)
		}
	}
}

// TestComposeEnvIsWhatTheProgramReads checks every variable compose and .env.example set.
func TestComposeEnvIsWhatTheProgramReads(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "live", "demo")
	for name, svc := range p.Services {
		if name == "redis" {
			continue
		}
		for k, v := range svc.Environment {
			if !config.Known(k) {
				t.Errorf("docker-compose.yml sets %s on %s, which the program does not read (config.Vars)", k, name)
			}
			if looksSecret(k) && v != nil && *v != "" {
				t.Errorf("docker-compose.yml sets the secret %s on %s: secrets belong in .env or a mounted file", k, name)
			}
		}
		for _, ef := range svc.EnvFiles {
			if filepath.Base(ef.Path) != ".env" || ef.Required {
				t.Errorf("%s: env_file %+v, want the optional .env", name, ef)
			}
		}
	}

	f, err := os.Open(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		m := line.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n++
		name, val := m[1], strings.TrimSpace(m[2])
		if !config.Known(name) && !slices.Contains(composeOnlyEnv, name) {
			t.Errorf(".env.example sets %s, which the program does not read (config.Vars)", name)
		}
		if looksSecret(name) && val != "" {
			t.Errorf(".env.example gives %s a value; leave secrets empty in the example", name)
		}
	}
	if err := sc.Err(); err != nil || n < 5 {
		t.Errorf(".env.example: %d variables, %v; want the example's variables", n, err)
	}
}

// looksSecret reports whether a variable holds a secret itself (not a file name).
func looksSecret(name string) bool {
	return !strings.HasSuffix(name, "_FILE") && (strings.Contains(name, "SECRET") || strings.Contains(name, "TOKEN") || strings.Contains(name, "PASSWORD"))
}

func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", n)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X reactivator/internal/version.Version=${VERSION}", "./cmd/reactivator"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
		t.Errorf("Dockerfile USER = %v, want a non-root user", users)
	}
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if last := froms[len(froms)-1][1]; !strings.Contains(last, "distroless/static") && last != "scratch" {
		t.Errorf("Dockerfile's final stage is FROM %s, want distroless/static or scratch", last)
	}
	di, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil || !regexp.MustCompile(`(?m)^\.env$`).Match(di) || !regexp.MustCompile(`(?m)^\.git$`).Match(di) {
		t.Errorf(".dockerignore = %q, %v; want .env and .git kept out of the build context", di, err)
	}
	gi, err := os.ReadFile(filepath.Join(repoRoot, ".gitignore"))
	if err != nil || !regexp.MustCompile(`(?m)^/?\.env$`).Match(gi) {
		t.Errorf(".gitignore = %q, %v; want .env ignored", gi, err)
	}
}

func TestDeploySchedulesLoad(t *testing.T) {
	t.Parallel()
	cfg, err := schedule.Load(filepath.Join(repoRoot, "deploy", "schedules.yaml"))
	if err != nil {
		t.Fatalf("deploy/schedules.yaml: %v", err)
	}
	if cfg.Reports != "/data/reports" || len(cfg.Schedules) == 0 {
		t.Errorf("deploy/schedules.yaml = %+v, want reports in /data/reports and schedules", cfg)
	}
	for _, s := range cfg.Schedules {
		if !strings.HasPrefix(s.Pickup.Inbox, "/data/inbox") {
			t.Errorf("schedule %s: inbox %s, want one on the data volume (/data/inbox…)", s.Pickup.Schedule, s.Pickup.Inbox)
		}
	}
}

// TestComposeDashStartsWithoutPassword runs the dash service's own command line, with the
// environment compose gives it, for a fresh checkout (no .env) and for .env.example copied as is:
// the dashboard must start (not restart forever for want of a password) and be behind basic auth
// with the password it printed, and a restart must keep that password.
func TestComposeDashStartsWithoutPassword(t *testing.T) {
	t.Parallel()
	example, err := dotenv.Read(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		dotenv map[string]string
	}{{"no .env", nil}, {".env.example as is", example}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			for k, v := range tc.dotenv {
				env = append(env, k+"="+v)
			}
			svc := loadComposeEnv(t, env, "demo").Services["dash"]
			w := newCLIWorld(t)
			// What the container sees: .env (env_file) under the service's environment.
			for k, v := range tc.dotenv {
				if strings.HasPrefix(k, "REACTIVATOR_DASH_") {
					w.setenv(k, v)
				}
			}
			for k, v := range svc.Environment {
				if k != "REDIS_URL" && v != nil { // the test's Redis stands in for redis:6379
					w.setenv(k, *v)
				}
			}
			args := slices.Clone(svc.Command)
			if args[0] != "dash" {
				t.Fatalf("dash command = %v", args)
			}
			var rest []string
			stateDir := t.TempDir()
			pwFile := ""
			for i := 1; i < len(args); i++ {
				switch args[i] {
				case "--addr":
					// Compose's address must be every interface (published ports arrive there) on the
					// container port that compose publishes; the test listens on a free port instead.
					if i+1 >= len(args) || len(svc.Ports) != 1 || args[i+1] != "0.0.0.0:"+strconv.Itoa(int(svc.Ports[0].Target)) {
						t.Errorf("dash --addr %v with ports %+v: want 0.0.0.0 on the published container port", args[i:], svc.Ports)
					}
					i++
				case "--generate-password":
					if i+1 >= len(args) {
						t.Fatalf("dash command %v: --generate-password without a file", args)
					}
					// The file must be on a named volume, so that a recreated container keeps it.
					dir := filepath.Dir(args[i+1])
					if !slices.ContainsFunc(svc.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Type == "volume" && v.Target == dir }) {
						t.Errorf("dash volumes %+v: want a named volume on %s, where its password is kept", svc.Volumes, dir)
					}
					pwFile = filepath.Join(stateDir, filepath.Base(args[i+1]))
					rest = append(rest, args[i], pwFile)
					i++
				default:
					rest = append(rest, args[i])
				}
			}
			base, stop := w.startDash("0.0.0.0", rest...)
			if code, _ := dashFetch(t, "GET", base+"/", nil, "", ""); code != http.StatusUnauthorized {
				t.Errorf("GET / without credentials = %d, want 401", code)
			}
			b, err := os.ReadFile(pwFile)
			if err != nil {
				t.Fatalf("no generated password file: %v", err)
			}
			pw := strings.TrimSpace(string(b))
			user := w.getenv("REACTIVATOR_DASH_USER")
			if user == "" {
				user = dash.GeneratedUser
			}
			if code, body := dashFetch(t, "GET", base+"/", nil, user, pw); code != http.StatusOK {
				t.Errorf("GET / as %s with the generated password = %d, want 200:\n%s", user, code, body)
			}
			res := stop()
			if !strings.Contains(res.stdout, pw) || !strings.Contains(res.stdout, "user "+user) {
				t.Errorf("dash did not print its generated credentials:\n%s", res)
			}
			if len(pw) < 20 {
				t.Errorf("generated password %q: want 20 characters or more", pw)
			}
			// A restart keeps the password.
			base, stop = w.startDash("0.0.0.0", rest...)
			if code, _ := dashFetch(t, "GET", base+"/", nil, user, pw); code != http.StatusOK {
				t.Errorf("after a restart, GET / with the first password = %d, want 200", code)
			}
			stop()
		})
	}
}

// TestDashPasswordYouSetIsNeverPrinted: --generate-password stands back when a password is set.
func TestDashPasswordYouSetIsNeverPrinted(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	w.setenv("REACTIVATOR_DASH_USER", "ops")
	w.setenv("REACTIVATOR_DASH_PASSWORD", dashPassword)
	w.secrets = append(w.secrets, dashPassword)
	pwFile := filepath.Join(t.TempDir(), "dash-password")
	base, stop := w.startDash("0.0.0.0", "--generate-password", pwFile)
	if code, _ := dashFetch(t, "GET", base+"/", nil, "ops", dashPassword); code != http.StatusOK {
		t.Errorf("GET / with the password set = %d, want 200", code)
	}
	stop()
	if _, err := os.Stat(pwFile); !os.IsNotExist(err) {
		t.Errorf("a password was generated although one is set: %v", err)
	}
}

func TestComposeDashPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  []string
		want string
	}{{nil, "8080"}, {[]string{"REACTIVATOR_DASH_PORT=9191"}, "9191"}} {
		dash := loadComposeEnv(t, tc.env).Services["dash"]
		if len(dash.Ports) != 1 || dash.Ports[0].Published != tc.want || dash.Ports[0].HostIP != "127.0.0.1" || dash.Ports[0].Target != 8080 {
			t.Errorf("with %v: dash ports = %+v, want 127.0.0.1:%s->8080", tc.env, dash.Ports, tc.want)
		}
	}
}

// TestComposeInterpolatesOnlyKnownVariables: every ${VAR} of docker-compose.yml is either one the
// program reads or one of compose's own that .env.example documents.
func TestComposeInterpolatesOnlyKnownVariables(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllSubmatch(b, -1)
	if len(vars) == 0 {
		t.Fatal("docker-compose.yml interpolates no variable; want at least REACTIVATOR_DASH_PORT")
	}
	for _, m := range vars {
		name := string(m[1])
		if !config.Known(name) && !slices.Contains(composeOnlyEnv, name) {
			t.Errorf("docker-compose.yml interpolates ${%s}, which neither the program nor composeOnlyEnv knows", name)
		}
		if slices.Contains(composeOnlyEnv, name) && name != "REACTIVATOR_VERSION" && !regexp.MustCompile(`(?m)^#?\s*`+name+`=`).Match(ex) {
			t.Errorf(".env.example does not mention %s, which docker-compose.yml reads", name)
		}
	}
}

// TestKubernetesCommandsAndEnv holds deploy/kubernetes to the program: every container's args are
// a command line it accepts, every variable the Secrets and ConfigMaps give is one it reads, and
// the schedules file loads. (deploy/kubernetes_test.go, a module of its own, checks the objects.)
func TestKubernetesCommandsAndEnv(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot, "deploy", "kubernetes")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("deploy/kubernetes: %v, %v", files, err)
	}
	var commands [][]string
	envNames := map[string]string{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("%s: %v", path, err)
				}
				break
			}
			walkYAML(doc, func(key string, v any) {
				switch key {
				case "containers":
					for _, c := range v.([]any) {
						var args []string
						for _, a := range c.(map[string]any)["args"].([]any) {
							args = append(args, a.(string))
						}
						commands = append(commands, args)
					}
				case "stringData": // the Secrets' keys are variables
					for k := range v.(map[string]any) {
						envNames[k] = filepath.Base(path)
					}
				case "literals": // configMapGenerator literals, given to the workers by envFrom
					for _, l := range v.([]any) {
						k, _, _ := strings.Cut(l.(string), "=")
						envNames[k] = filepath.Base(path)
					}
				case "env":
					for _, e := range v.([]any) {
						envNames[e.(map[string]any)["name"].(string)] = filepath.Base(path)
					}
				}
			})
		}
		f.Close()
	}
	if len(commands) < 3 || len(envNames) < 5 {
		t.Fatalf("found %d commands and %d variables in deploy/kubernetes; want the worker, scheduler and dash", len(commands), len(envNames))
	}
	for _, args := range commands {
		cmd, rest, err := (&app{}).rootCmd().Find(args)
		if err == nil {
			err = cmd.ParseFlags(rest)
		}
		if err != nil || cmd.Name() != args[0] {
			t.Errorf("deploy/kubernetes runs %v, which the program refuses: %v", args, err)
		}
	}
	for name, file := range envNames {
		if !config.Known(name) {
			t.Errorf("deploy/kubernetes/%s sets %s, which the program does not read (config.Vars)", file, name)
		}
	}
	cfg, err := schedule.Load(filepath.Join(dir, "schedules.yaml"))
	if err != nil || len(cfg.Schedules) == 0 || !strings.HasPrefix(cfg.Reports, "/data/") {
		t.Errorf("deploy/kubernetes/schedules.yaml = %+v, %v; want schedules with reports on the data volume", cfg, err)
	}
}

// walkYAML calls fn with every key and value of a decoded YAML document, depth first.
func walkYAML(v any, fn func(key string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			fn(k, x)
			walkYAML(x, fn)
		}
	case []any:
		for _, x := range v {
			walkYAML(x, fn)
		}
	}
}
