package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"reactivator/jobs"
)

// Every command that takes RUN takes a unique prefix of its id; an ambiguous one lists the runs
// it could name; completion offers run ids and providers, never file names.
func TestRunIDPrefixesAndCompletion(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	a := w.ingested("a.csv", 2)
	b := w.ingested("b.csv", 3)
	// Two more runs whose ids share a long prefix, to be sure of an ambiguous one.
	for _, id := range []string{"stytch-sameprefix-1", "stytch-sameprefix-2"} {
		if _, _, err := w.store.CreateRun(context.Background(), jobs.Run{ID: id, Provider: jobs.Stytch, File: id + ".csv"}); err != nil {
			t.Fatal(err)
		}
	}
	short := func(id string) string { return id[:len("stytch-")+6] }
	if short(a) == short(b) {
		t.Skipf("runs %s and %s share their first 6 hash digits", a, b) // one in 16 million
	}

	for _, args := range [][]string{{"status", short(a)}, {"report", short(a)}, {"cancel", short(b)}} {
		r := w.run(args...)
		if r.code != exitOK {
			t.Errorf("%s = %s; want the run of prefix %s", strings.Join(args, " "), r, args[1])
		}
	}
	if r := w.run("status", short(a), "--json"); !strings.Contains(r.stdout, `"id": "`+a+`"`) {
		t.Errorf("status %s --json = %s, want run %s", short(a), r, a)
	}
	if r := w.run("report", short(b)); !strings.Contains(r.stdout, "cancelled") {
		t.Errorf("report %s = %s, want the cancelled run %s", short(b), r, b)
	}
	r := w.run("report", "stytch-same")
	if r.code != exitError || !strings.Contains(r.stderr, "ambiguous") || !strings.Contains(r.stderr, "stytch-sameprefix-1") ||
		!strings.Contains(r.stderr, "stytch-sameprefix-2") {
		t.Errorf("report stytch-same = %s; want exit 1 naming both runs it could be", r)
	}
	if r := w.run("status", "nope"); r.code != exitError || !strings.Contains(r.stderr, `no run "nope"`) {
		t.Errorf("status nope = %s; want exit 1, no run", r)
	}

	tests := []struct {
		args []string
		want []string
		not  string
	}{
		{args: []string{"__complete", "report", "stytch-same"}, want: []string{"stytch-sameprefix-1", "stytch-sameprefix-2"}, not: a},
		{args: []string{"__complete", "status", ""}, want: []string{a, b, "stytch-sameprefix-1"}},
		{args: []string{"__complete", "cancel", short(a)}, want: []string{a}, not: b},
		{args: []string{"__complete", "resume", ""}, want: []string{"stytch", "zitadel"}},
		{args: []string{"__complete", "run", "--provider", ""}, want: []string{"stytch", "zitadel"}},
	}
	for _, tt := range tests {
		// Shells call `reactivator __complete ...` with no flags before it.
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, w.getenv, strings.NewReader(""), &stdout, &stderr)
		r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
		for _, want := range tt.want {
			if !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("%s offers %q, want %s among them", strings.Join(tt.args, " "), r.stdout, want)
			}
		}
		if tt.not != "" && strings.Contains(r.stdout, tt.not) {
			t.Errorf("%s offers %q, want no %s", strings.Join(tt.args, " "), r.stdout, tt.not)
		}
		if !strings.Contains(r.stdout, ":4\n") { // ShellCompDirectiveNoFileComp
			t.Errorf("%s = %q, want no file names offered (:4)", strings.Join(tt.args, " "), r.stdout)
		}
	}
}
