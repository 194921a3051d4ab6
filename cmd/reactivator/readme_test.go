package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reactivator/internal/config"
	"reactivator/internal/fakeidp"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readmeLine is one command line of a README code block.
type readmeLine struct {
	block string // the block's info string: "sh" blocks are run, plain ones only parsed
	text  string
}

// readmeCommands returns the command lines of README.md's code blocks, comments stripped.
func readmeCommands(t *testing.T) []readmeLine {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeLine
	in, info := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			in, info = !in, strings.TrimPrefix(line, "```")
			continue
		}
		if !in || (info != "sh" && info != "" && info != "crontab") {
			continue
		}
		kind := info
		if info == "crontab" {
			// A crontab entry: the reactivator command up to its redirections, run like an sh line.
			i := strings.Index(line, "reactivator ")
			if strings.HasPrefix(line, "#") || i < 0 {
				continue
			}
			line = line[i:]
			if j := strings.IndexAny(line, ">|&"); j >= 0 {
				line = line[:j]
			}
			kind = "sh"
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, readmeLine{block: kind, text: line})
		}
	}
	return out
}

// TestReadmeCommandsRun runs every command the README shows, in order, against the fakes, so
// the README cannot rot: a renamed command or flag, or a command that stops working, fails here.
// Placeholders (RUN, the example files) are filled in; `export` lines must name variables the
// program reads; `make` lines must name Makefile targets (.ci/run runs `make test` itself).
func TestReadmeCommandsRun(t *testing.T) {
	lines := readmeCommands(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	w := newCLIWorld(t)
	t.Chdir(w.dir)
	w.stytchCSV("members.csv", 6, 4)
	users := w.zitadelCSV("users.csv", 5)
	// One unknown user, so the ZITADEL run has a failure for the fix-and-retry commands.
	fh, err := os.OpenFile(users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString("399999999999999999;nobody@example.com\n"); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	// The worked example's accounts: inactive users at example.com that no file names, for find.
	for i := 1; i <= 12; i++ {
		w.zitadel.AddZitadelUser(fakeidp.ZitadelUser{ID: fmt.Sprintf("3100000000000%05d", i), OrgID: wZOrg, State: fakeidp.ZitadelInactive,
			UserName: fmt.Sprintf("r%d", i), Email: fmt.Sprintf("r%d@example.com", i), EmailVerified: true})
	}
	lastRun := ""
	runID := regexp.MustCompile(`(stytch|zitadel)-[0-9a-f]{12}\b`)
	longRunning := map[string]bool{"worker": true, "dash": true, "scheduler": true, "demo": true}
	ran := 0
	for _, l := range lines {
		fields := strings.Fields(l.text)
		switch fields[0] {
		case "export":
			for _, kv := range fields[1:] {
				if name, _, _ := strings.Cut(kv, "="); !config.Known(name) {
					t.Errorf("README exports %s, which the program does not read", name)
				}
			}
			continue
		case "make":
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fields[1]) + `:`).Match(makefile) {
				t.Errorf("README runs `%s`, but the Makefile has no such target", l.text)
			}
			continue
		case "go":
			if fields[1] == "test" && strings.Contains(l.text, "-bench") {
				// A benchmark table (minutes long; make bench runs it): the benchmark must exist.
				checkBenchmark(t, repo, l.text, fields)
				continue
			}
			if strings.Join(fields[:3], " ") == "go run ./cmd/reactivator" {
				fields = append([]string{"reactivator"}, fields[3:]...)
			} else {
				t.Errorf("README line %q: unknown go command", l.text)
				continue
			}
		case "reactivator":
		default:
			t.Errorf("README shows %q: a test does not know how to run it", l.text)
			continue
		}
		args := fields[1:]
		if l.block == "" {
			// The command listing: placeholders in capitals; the command must exist.
			root := (&app{}).rootCmd()
			root.InitDefaultCompletionCmd()
			if cmd, _, err := root.Find(args[:1]); err != nil || cmd.Name() != args[0] {
				t.Errorf("README lists `%s`, which is not a command", l.text)
			}
			continue
		}
		for i, a := range args {
			if strings.HasSuffix(a, ".csv") && strings.Contains(a, "/") {
				args[i] = filepath.Base(a) // /data/exports/users.csv: the world's users.csv
			}
			if a == "RUN" {
				if lastRun == "" {
					t.Fatalf("README line %q names RUN before any run was made", l.text)
				}
				args[i] = lastRun
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		if args[0] == "dash" && !slices.Contains(args, "--addr") {
			// The README's default port may be taken on a machine others share: same command, any port.
			args = append(args, "--addr", "127.0.0.1:0")
		}
		if longRunning[args[0]] || strings.Contains(l.text, "--watch") {
			if args[0] == "demo" {
				args = append(args, "--once")
			} else {
				time.AfterFunc(3*time.Second, cancel)
			}
		}
		res := w.runCtx(ctx, args...)
		cancel()
		ran++
		switch {
		case res.code == exitOK, res.code == exitSomeFailed:
		case res.code == exitInterrupted && ctx.Err() != nil:
		default:
			t.Errorf("README command `%s` = %s", l.text, res)
		}
		if m := runID.FindString(res.stdout + res.stderr); m != "" {
			lastRun = m
		}
	}
	if ran < 8 {
		t.Fatalf("ran %d README commands, want the quickstarts, fix-and-retry and the fleet's (at least 8)", ran)
	}
}

// checkBenchmark fails when a `go test -bench NAME ./pkg/` line names no benchmark of that package.
func checkBenchmark(t *testing.T, repo, line string, fields []string) {
	t.Helper()
	name, pkg := "", ""
	for i, f := range fields {
		if f == "-bench" && i+1 < len(fields) {
			name = fields[i+1]
		}
		if strings.HasPrefix(f, "./") {
			pkg = f
		}
	}
	files, _ := filepath.Glob(filepath.Join(repo, pkg, "*_test.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && regexp.MustCompile(`func Benchmark\w*`+regexp.QuoteMeta(name)).Match(b) {
			return
		}
	}
	t.Errorf("README runs %q, but %s has no benchmark matching %s", line, pkg, name)
}
