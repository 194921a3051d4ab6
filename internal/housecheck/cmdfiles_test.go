// This file keeps the command files of cmd/reactivator apart: what two commands share lives in
// a library or a shell file (app.go, flags.go), not in one of them.

package housecheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// file is the base name of the file pos is in.
func (p *cmdPackage) file(pos token.Pos) string { return filepath.Base(p.fset.Position(pos).Filename) }

// isCommandFile reports whether f defines a subcommand: a method of *app named xxxCmd returning
// *cobra.Command, other than rootCmd (app.go, the shell that holds every command).
func isCommandFile(f *ast.File) bool {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 || !strings.HasSuffix(fd.Name.Name, "Cmd") || fd.Name.Name == "rootCmd" {
			continue
		}
		star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
		if !ok || fmt.Sprint(star.X) != "app" || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
			continue
		}
		if sel, ok := fd.Type.Results.List[0].Type.(*ast.StarExpr); ok && types.ExprString(sel.X) == "cobra.Command" {
			return true
		}
	}
	return false
}

// commandFiles are the base names of p's command files, sorted.
func (p *cmdPackage) commandFiles() []string {
	var out []string
	for name, f := range p.files {
		if isCommandFile(f) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// crossUses lists every use, in a command file, of a name that another command file declares.
func (p *cmdPackage) crossUses() []string {
	commands := map[string]bool{}
	for _, name := range p.commandFiles() {
		commands[name] = true
	}
	var out []string
	for id, obj := range p.info.Uses {
		if obj.Pkg() == nil || obj.Pkg().Path() != "main" {
			continue
		}
		from, in := p.file(id.Pos()), p.file(obj.Pos())
		if from != in && commands[from] && commands[in] {
			out = append(out, fmt.Sprintf("%s: uses %s, declared in the command file %s", p.fset.Position(id.Pos()), obj.Name(), in))
		}
	}
	sort.Strings(out)
	return out
}

// TestNoCommandFileUsesAnother fails when a command file uses a function, method, constant,
// variable, type or field that another command file declares: what two commands share belongs
// in a library (or a shell file such as app.go or flags.go).
func TestNoCommandFileUsesAnother(t *testing.T) {
	t.Parallel()
	p := parseCmd(t, filepath.Join(repoRoot(t), "cmd", "reactivator"))
	if len(p.commandFiles()) < 10 {
		t.Fatalf("found %d command files %v, want every command's file", len(p.commandFiles()), p.commandFiles())
	}
	for _, use := range p.crossUses() {
		t.Error(use)
	}
}
