// This file tests the confirmation of run on a terminal: an answer other than y calls and
// queues nothing, y goes on, --yes and a stdin that is not a terminal ask nothing.

package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// ttyInput is a stdin that says it is a terminal, with the operator's answers.
type ttyInput struct{ io.Reader }

func (ttyInput) IsTerminal() bool { return true }

// runWithInput runs one command line with stdin in.
func (w *cliWorld) runWithInput(in io.Reader, args ...string) result {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--log-format", "text"}, args...), w.getenv, in, &stdout, &stderr)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	w.assertNoSecret(r.stdout, r.stderr)
	return r
}

func TestRunConfirmationAnsweredNoCallsNothing(t *testing.T) {
	w := newCLIWorld(t)
	in := w.stytchCSV("members.csv", 3)
	r := w.runWithInput(ttyInput{strings.NewReader("n\n")}, "run", in)
	if r.code != exitError {
		t.Errorf("run answered n = %s, want exit %d", r, exitError)
	}
	for _, want := range []string{"Proceed? [y/N]", "stytch", w.getenv("STYTCH_BASE_URL"), "environment test", "3 rows", "not confirmed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("run answered n: stderr lacks %q:\n%s", want, r)
		}
	}
	if n := w.stytch.TotalCalls(); n != 0 {
		t.Errorf("run answered n made %d reactivate calls, want 0", n)
	}
	runs, err := w.store.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Errorf("run answered n queued %d runs, want none", len(runs))
	}
}

func TestRunConfirmationYesAndNoTerminal(t *testing.T) {
	w := newCLIWorld(t)
	r := w.runWithInput(ttyInput{strings.NewReader("y\n")}, "run", "--report", w.dir+"/a.report.csv", w.zitadelCSV("a.csv", 2))
	if r.code != exitOK || !strings.Contains(r.stderr, "Proceed? [y/N]") {
		t.Errorf("run answered y = %s, want the question and exit 0", r)
	}
	r = w.runWithInput(ttyInput{strings.NewReader("")}, "run", "--yes", "--report", w.dir+"/b.report.csv", w.zitadelCSV("b.csv", 3))
	if r.code != exitOK || strings.Contains(r.stderr, "Proceed?") {
		t.Errorf("run --yes on a terminal = %s, want no question and exit 0", r)
	}
	r = w.run("run", "--report", w.dir+"/c.report.csv", w.zitadelCSV("c.csv", 4))
	if r.code != exitOK || strings.Contains(r.stderr, "Proceed?") {
		t.Errorf("run without a terminal = %s, want no question and exit 0", r)
	}
	if n := w.zitadel.TotalCalls(); n != 9 {
		t.Errorf("the three confirmed runs made %d calls, want 9", n)
	}
}
