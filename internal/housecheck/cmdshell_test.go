// This file keeps cmd/reactivator a shell (docs/architecture.md): short RunE functions, command
// files that lean on libraries instead of on each other.

package housecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maxRunELines is the most lines a command's RunE may span, its func line and closing brace
// included: options, Validate(), one library call, print.
const maxRunELines = 25

// cmdPackage is cmd/reactivator's production files, parsed and type-checked on their own.
type cmdPackage struct {
	fset  *token.FileSet
	files map[string]*ast.File // base name -> file
	info  *types.Info
}

// parseCmd parses the non-test .go files of dir and type-checks them against empty imports, so
// that every identifier declared in the package resolves (library names do not, and need not).
func parseCmd(t *testing.T, dir string) *cmdPackage {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	p := &cmdPackage{fset: token.NewFileSet(), files: map[string]*ast.File{}}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		p.files[filepath.Base(name)] = f
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no .go files in %s", dir)
	}
	p.info = &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: emptyImporter{}, Error: func(error) {}}
	_, _ = conf.Check("main", p.fset, files, p.info) // errors are the libraries' names, left unresolved
	return p
}

// emptyImporter gives every import as an empty package named for its path's last element
// (its major version skipped).
type emptyImporter struct{}

func (emptyImporter) Import(importPath string) (*types.Package, error) {
	name := path.Base(importPath)
	if strings.HasPrefix(name, "v") && strings.Trim(name[1:], "0123456789") == "" {
		name = path.Base(path.Dir(importPath))
	}
	name = strings.TrimPrefix(name, "go-")
	pkg := types.NewPackage(importPath, name)
	pkg.MarkComplete()
	return pkg, nil
}

// longRunEs lists every RunE of p that spans more than max lines: a function literal set as RunE
// (in a composite literal or by assignment), or the package's function or method it names.
func (p *cmdPackage) longRunEs(max int) []string {
	decls := map[types.Object]*ast.FuncDecl{}
	for _, f := range p.files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				decls[p.info.Defs[fd.Name]] = fd
			}
		}
	}
	var out []string
	check := func(at token.Pos, v ast.Expr) {
		var body ast.Node
		switch v := v.(type) {
		case *ast.FuncLit:
			body = v
		case *ast.Ident, *ast.SelectorExpr:
			id, ok := v.(*ast.Ident)
			if !ok {
				id = v.(*ast.SelectorExpr).Sel
			}
			if fd := decls[p.info.Uses[id]]; fd != nil {
				body = fd
			}
		}
		if body == nil {
			return
		}
		start, end := p.fset.Position(body.Pos()), p.fset.Position(body.End())
		if n := end.Line - start.Line + 1; n > max {
			out = append(out, fmt.Sprintf("%s: RunE spans %d lines (%s:%d)", p.fset.Position(at), n, filepath.Base(start.Filename), start.Line))
		}
	}
	for _, f := range p.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "RunE" {
					check(n.Pos(), n.Value)
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "RunE" && i < len(n.Rhs) {
						check(n.Pos(), n.Rhs[i])
					}
				}
			}
			return true
		})
	}
	sort.Strings(out)
	return out
}

// TestNoLongRunE fails when a command's RunE spans more than maxRunELines lines: what it does
// belongs in a library, behind one call.
func TestNoLongRunE(t *testing.T) {
	t.Parallel()
	p := parseCmd(t, filepath.Join(repoRoot(t), "cmd", "reactivator"))
	for _, long := range p.longRunEs(maxRunELines) {
		t.Errorf("%s, want at most %d: move the work into a library", long, maxRunELines)
	}
}
