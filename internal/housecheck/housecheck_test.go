package housecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the directory of the repository's go.mod, found upwards from the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module reactivator\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of module reactivator above the test's directory")
		}
		dir = parent
	}
}

// goFile is one parsed source file of the repository.
type goFile struct {
	path string // relative to the repository root, slash-separated
	test bool
	f    *ast.File
}

// sources parses every .go file of the repository, the deploy module included, skipping testdata
// and hidden directories.
func sources(t *testing.T, root string) []goFile {
	t.Helper()
	var out []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, goFile{path: filepath.ToSlash(rel), test: strings.HasSuffix(name, "_test.go"), f: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("found no .go files")
	}
	return out
}

// docPrefix is how a package's doc comment starts: "Package x " for a library, "Command x " for
// a main package (named for its directory, the Go convention for a command's doc).
func docPrefix(dir string, f *ast.File) string {
	if f.Name.Name == "main" {
		return "Command " + filepath.Base(dir) + " "
	}
	return "Package " + f.Name.Name + " "
}

// TestEveryPackageHasAPackageDoc fails when a package's go doc would not open with "Package X …":
// no file carries a package doc, a file's own comment sits on the package clause (go doc then
// reads it as the package's description), or two files both carry one.
func TestEveryPackageHasAPackageDoc(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	docs := map[string][]string{}  // dir -> files whose comment is on the package clause
	libs := map[string]*ast.File{} // dir -> one non-test file of it
	for _, g := range sources(t, root) {
		dir := filepath.Dir(g.path)
		if !g.test {
			libs[dir] = g.f
		}
		if g.f.Doc == nil {
			continue
		}
		docs[dir] = append(docs[dir], g.path)
		if want := docPrefix(dir, g.f); !strings.HasPrefix(g.f.Doc.Text(), want) {
			first, _, _ := strings.Cut(g.f.Doc.Text(), "\n")
			t.Errorf("%s: the comment on its package clause starts %q, want %q…; a file comment sits above a blank line", g.path, first, want)
		}
	}
	dirs := make([]string, 0, len(libs))
	for dir := range libs {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		switch n := len(docs[dir]); {
		case n == 0:
			t.Errorf("package %s has no doc comment; give one file (doc.go, or its main file) a comment starting %q on its package clause", dir, docPrefix(dir, libs[dir]))
		case n > 1:
			t.Errorf("package %s has a doc comment in %d files %v, want one", dir, n, docs[dir])
		}
	}
}

var (
	// parentPath is a path that climbs to a parent directory (dot, dot, slash), not an ellipsis
	// followed by a slash, as in a shortened URL.
	parentPath = regexp.MustCompile(`(^|[^.])\.\./`)
	// mdPath is a Markdown file named in a comment.
	mdPath = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)
)

// citesOutside returns what in a comment's text points outside the repository, or "".
// A Markdown file must exist at that path from the repository root or from the file's directory.
func citesOutside(root, dir, text string) string {
	if m := parentPath.FindString(text); m != "" {
		return "a path that climbs out of the file's directory (" + strings.TrimSpace(m) + ")"
	}
	for _, bad := range []string{"shared/", "/work/", "/home/"} {
		if strings.Contains(text, bad) {
			return "the path " + bad
		}
	}
	for _, md := range mdPath.FindAllString(text, -1) {
		md = strings.TrimPrefix(md, "./")
		if _, err := os.Stat(filepath.Join(root, md)); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, dir, md)); err == nil {
			continue
		}
		return md + ", which is not in this repository (the contract is docs/design.md, provider facts docs/providers.md)"
	}
	return ""
}

// TestNoCommentCitesAFileOutsideTheRepo fails when a comment points at a document that is not in
// this repository.
func TestNoCommentCitesAFileOutsideTheRepo(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, g := range sources(t, root) {
		for _, cg := range g.f.Comments {
			for _, c := range cg.List {
				if what := citesOutside(root, filepath.Dir(g.path), c.Text); what != "" {
					t.Errorf("%s: comment %q cites %s", g.path, c.Text, what)
				}
			}
		}
	}
}

// TestCitesOutside checks the citation rule on the kinds of comment it must tell apart.
func TestCitesOutside(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, tt := range []struct {
		name, text string
		outside    bool
	}{
		{"repo contract", "// the contract is docs/design.md", false},
		{"provider facts", "// (docs/providers.md, Stytch)", false},
		{"readme", "// see README.md", false},
		{"ellipsis in a URL", "// GET .../members/dangerously_get/{id}", false},
		{"parent directory", "// see ../shared/docs/style.md", true},
		{"shared docs", "// as shared/docs/providers.md says", true},
		{"bare design doc", "// design.md §4", true},
		{"missing doc", "// docs/missing.md", true},
	} {
		if got := citesOutside(root, "worker", tt.text) != ""; got != tt.outside {
			t.Errorf("%s: citesOutside(%q) = %v, want %v", tt.name, tt.text, got, tt.outside)
		}
	}
}
