package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// envReads returns the environment variable names the command files pass to getenv, first or
// secret (the only ways the program reads its environment), with where.
func envReads(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
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
			if !slices.Contains([]string{"getenv", "Getenv", "LookupEnv", "first", "secret"}, name) {
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
		if !isKnownEnv(name) {
			t.Errorf("%s reads %s, which knownEnv (env.go) does not list", at, name)
		}
	}
	for _, e := range knownEnv {
		if _, ok := reads[e.name]; !ok {
			t.Errorf("knownEnv lists %s, which no command file reads", e.name)
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
	for _, e := range knownEnv {
		if !strings.Contains(r.stdout, e.name) {
			t.Errorf("--help does not list %s", e.name)
		}
	}
}
