package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reactivator/internal/config"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// envReadDirs are the packages that read the environment: the commands, and the packages that
// resolve settings from it (through config.Env).
var envReadDirs = []string{".", "../../internal/config", "../../internal/providers", "../../internal/dash", "../../internal/oneshot"}

// envReads returns the environment variable names the command files and envReadDirs pass to
// getenv, first or secret, or config.Env's First and Secret (the only ways the program reads
// its environment), with where.
func envReads(t *testing.T) map[string]string {
	t.Helper()
	var files []string
	for _, dir := range envReadDirs {
		fs, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			case *ast.Ident:
				name = fn.Name
			}
			if !slices.Contains([]string{"getenv", "Getenv", "LookupEnv", "first", "secret", "env", "First", "Secret"}, name) {
				return true
			}
			for _, arg := range call.Args {
				if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
						out[s] = fset.Position(lit.Pos()).String()
					}
				}
			}
			return true
		})
	}
	return out
}

func TestKnownEnvIsWhatTheProgramReads(t *testing.T) {
	t.Parallel()
	reads := envReads(t)
	if len(reads) < 10 {
		t.Fatalf("found %d environment reads in the command files, want the whole set: is the parser looking at the right calls?", len(reads))
	}
	for name, at := range reads {
		if !config.Known(name) {
			t.Errorf("%s reads %s, which config.Vars does not list", at, name)
		}
	}
	for _, e := range config.Vars {
		if _, ok := reads[e.Name]; !ok {
			t.Errorf("config.Vars lists %s, which no command file reads", e.Name)
		}
	}
}

func TestHelpListsTheEnvironment(t *testing.T) {
	t.Parallel()
	w := newCLIWorld(t)
	r := w.run("--help")
	if r.code != exitOK {
		t.Fatalf("--help = %s", r)
	}
	for _, e := range config.Vars {
		if !strings.Contains(r.stdout, e.Name) {
			t.Errorf("--help does not list %s", e.Name)
		}
	}
}
