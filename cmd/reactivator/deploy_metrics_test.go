package main

// TestDeployMetricsAreExported holds deploy/grafana and deploy/prometheus to the metrics the
// program really serves: a worker and the dashboard run here against the fakes, a run with a
// 429, a not-found row and reactivated rows goes through, and both /metrics are scraped. Every
// metric name the dashboard JSON and the alert rules use must be one of those, every label they
// match on one the metric has, and every outcome or class they name one the program has.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"reactivator/internal/redistest"
	"reactivator/jobs"
)

// family is one scraped metric family: its type and the label names its samples carry.
type family struct {
	typ    string
	labels map[string]bool
}

// scrapeFamilies reads a Prometheus text exposition into families.
func scrapeFamilies(t *testing.T, url, user, password string, into map[string]*family) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d: %s", url, resp.StatusCode, b)
	}
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			if into[f[2]] == nil {
				into[f[2]] = &family{labels: map[string]bool{}}
			}
			into[f[2]].typ = f[3]
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		fam := into[name]
		if fam == nil {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f := into[strings.TrimSuffix(name, suffix)]; f != nil && strings.HasSuffix(name, suffix) {
					fam = f
				}
			}
		}
		if fam == nil {
			t.Fatalf("%s: sample %q before its TYPE line", url, line)
		}
		for _, l := range label.FindAllStringSubmatch(m[3], -1) {
			if l[1] != "le" && l[1] != "quantile" {
				fam.labels[l[1]] = true
			}
		}
	}
}

// exportedFamilies runs a worker with --metrics-addr and the dashboard, puts a run through
// them, and returns the families both serve.
func exportedFamilies(t *testing.T) map[string]*family {
	w := newCLIWorld(t)
	csv := w.stytchCSV("members.csv", 5, 4) // member 4 is not found
	// One 429 (then the row goes through), so the 429 counter has a series.
	w.stytch.Script(wOrgID, stytchMember(2), caseNamed(t, "stytch/too_many_requests"))
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	// --rate stytch=auto: the auto-rate gauge has a series.
	w.startWorker("--metrics-addr", metricsAddr, "--rate", "stytch=auto,zitadel=20")
	if r := w.run("ingest", "--wait", csv); r.code != exitSomeFailed {
		t.Fatalf("ingest --wait: %s; want exit %d (one row not found)", r, exitSomeFailed)
	}
	fams := map[string]*family{}
	scrapeFamilies(t, "http://"+metricsAddr+"/metrics", "", "", fams)
	w.setenv("REACTIVATOR_DASH_USER", "ops")
	w.setenv("REACTIVATOR_DASH_PASSWORD", dashPassword)
	base, stop := w.startDash("127.0.0.1")
	scrapeFamilies(t, base+"/metrics", "ops", dashPassword, fams)
	stop()
	return fams
}

// metricRef is one use of a metric in a deploy file.
type metricRef struct {
	where, expr, name string
	matchers          map[string][]string // label → the values an =, =~ matcher names
}

var (
	metricName = regexp.MustCompile(`\b((?:reactivator|asynq)_[a-z0-9_]+)\b(\{[^}]*\})?`)
	matcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
)

// metricRefs finds the metric names and their label matchers in a PromQL expression.
func metricRefs(where, expr string) []metricRef {
	var out []metricRef
	for _, m := range metricName.FindAllStringSubmatch(expr, -1) {
		r := metricRef{where: where, expr: expr, name: m[1], matchers: map[string][]string{}}
		for _, mm := range matcher.FindAllStringSubmatch(m[2], -1) {
			if mm[2] == "=" || mm[2] == "=~" {
				r.matchers[mm[1]] = append(r.matchers[mm[1]], strings.Split(mm[3], "|")...)
			} else {
				r.matchers[mm[1]] = append(r.matchers[mm[1]], "")
			}
		}
		out = append(out, r)
	}
	return out
}

// checkRef returns what is wrong with one use of a metric, or "".
func checkRef(fams map[string]*family, r metricRef) string {
	name := r.name
	fam := fams[name]
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if f := fams[strings.TrimSuffix(name, suffix)]; fam == nil && f != nil && strings.HasSuffix(name, suffix) &&
			(f.typ == "histogram" || f.typ == "summary") {
			fam = f
		}
	}
	if fam == nil {
		return fmt.Sprintf("%s uses %s, which neither the worker nor the dashboard exports", r.where, name)
	}
	known := map[string][]string{"class": {}, "outcome": {"pending"}}
	for _, o := range jobs.Outcomes {
		known["outcome"] = append(known["outcome"], string(o))
	}
	for _, c := range []jobs.Class{jobs.ClassReactivated, jobs.ClassNotDeactivated, jobs.ClassUnverifiedEmail, jobs.ClassNotFound, jobs.ClassRejected, jobs.ClassTransient, jobs.ClassFatal} {
		known["class"] = append(known["class"], string(c))
	}
	for l, values := range r.matchers {
		if !fam.labels[l] {
			return fmt.Sprintf("%s matches %s on label %q, which it does not have (it has %v)", r.where, name, l, keysOf(fam.labels))
		}
		for _, v := range values {
			if v != "" && known[l] != nil && !strings.ContainsAny(v, ".*$()[]") && !slices.Contains(known[l], v) {
				return fmt.Sprintf("%s matches %s{%s=%q}, which is no %s the program has (%v)", r.where, name, l, v, l, known[l])
			}
		}
	}
	return ""
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// deployExprs returns every PromQL expression of deploy/grafana/*.json ("expr" fields, and the
// template variables' queries) and deploy/prometheus/*rules.yaml, with where it is.
func deployExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	dashboards, _ := filepath.Glob(filepath.Join(repoRoot, "deploy", "grafana", "*.json"))
	rules, _ := filepath.Glob(filepath.Join(repoRoot, "deploy", "prometheus", "*rules.yaml"))
	if len(dashboards) == 0 || len(rules) == 0 {
		t.Fatalf("deploy/grafana: %v, deploy/prometheus: %v; want a dashboard and rules", dashboards, rules)
	}
	for _, path := range dashboards {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n := 0
		walkYAML(doc, func(key string, v any) {
			if s, ok := v.(string); ok && (key == "expr" || key == "definition") {
				n++
				out[fmt.Sprintf("%s expr %d", filepath.Base(path), n)] = s
			}
		})
	}
	for _, path := range rules {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Alert, Record, Expr string
				}
			}
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				out[filepath.Base(path)+" "+r.Alert+r.Record] = r.Expr
			}
		}
	}
	return out
}

func TestDeployMetricsAreExported(t *testing.T) {
	t.Parallel()
	fams := exportedFamilies(t)
	for _, want := range []string{"reactivator_calls_total", "reactivator_rate_limited_total", "reactivator_outcomes_total",
		"reactivator_call_duration_seconds", "reactivator_auto_rate", "reactivator_run_rows", "reactivator_provider_paused", "asynq_queue_size"} {
		if fams[want] == nil {
			t.Fatalf("the scrape lacks %s (have %v): the test's run did not make every series", want, len(fams))
		}
	}
	exprs := deployExprs(t)
	used := map[string]bool{}
	for where, expr := range exprs {
		refs := metricRefs(where, expr)
		if len(refs) == 0 && !strings.Contains(expr, "$") {
			t.Errorf("%s: %q uses no reactivator or asynq metric", where, expr)
		}
		for _, r := range refs {
			used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(r.name, "_bucket"), "_sum"), "_count")] = true
			if msg := checkRef(fams, r); msg != "" {
				t.Errorf("%s\n\t%s", msg, expr)
			}
		}
	}
	// The dashboard and rules should between them show each of our own metrics.
	for name := range fams {
		if strings.HasPrefix(name, "reactivator_") && !used[name] {
			t.Errorf("%s is exported but neither the Grafana dashboard nor the alert rules use it", name)
		}
	}

	// The checker itself can fail: a made-up name, a label the metric lacks, an outcome that
	// does not exist.
	for _, bad := range []string{
		`sum(rate(reactivator_calls_totl[5m]))`,
		`reactivator_provider_paused{queue="x"}`,
		`reactivator_outcomes_total{outcome=~"not_found|gone"}`,
	} {
		failed := false
		for _, r := range metricRefs("self-check", bad) {
			failed = failed || checkRef(fams, r) != ""
		}
		if !failed {
			t.Errorf("the check accepts %q", bad)
		}
	}
}
