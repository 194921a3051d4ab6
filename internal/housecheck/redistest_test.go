package housecheck

import (
	"go/ast"
	"path"
	"testing"
)

// TestSharedRedisIsStopped fails when a test package reaches the package's redis-server
// (redistest.Shared) without a TestMain that runs redistest.Main, which stops it: such a package
// leaves a redis-server running after every `go test`.
func TestSharedRedisIsStopped(t *testing.T) {
	type pkg struct{ dir, name string }
	shared, stopped := map[pkg]string{}, map[pkg]bool{}
	for _, f := range sources(t, repoRoot(t)) {
		if !f.test {
			continue
		}
		p := pkg{path.Dir(f.path), f.f.Name.Name}
		ast.Inspect(f.f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "redistest" {
				switch sel.Sel.Name {
				case "Shared":
					shared[p] = f.path
				case "Main":
					stopped[p] = true
				}
			}
			return true
		})
	}
	if len(shared) == 0 {
		t.Fatal("no test calls redistest.Shared: the check looks at nothing")
	}
	for p, file := range shared {
		if !stopped[p] {
			t.Errorf("%s calls redistest.Shared, but package %s of %s has no TestMain running redistest.Main: its redis-server outlives the tests", file, p.name, p.dir)
		}
	}
}
