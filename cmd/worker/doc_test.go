package main

import (
	"flag"
	"go/parser"
	"go/token"
	"io"
	"regexp"
	"testing"
)

// TestDocNamesEveryFlag keeps doc.go in step with the command line: every flag
// of the FlagSet, and the environment variable its usage names, must appear in
// the package doc.
func TestDocNamesEveryFlag(t *testing.T) {
	t.Parallel()
	doc := packageDoc(t)
	var o options
	cl := newCommandLine(&o, envOf(nil), io.Discard)
	n := 0
	cl.fs.VisitAll(func(f *flag.Flag) {
		n++
		if !regexp.MustCompile(flagPattern(f.Name)).MatchString(doc) {
			t.Errorf("doc.go does not name --%s", f.Name)
		}
		m := envInUsage.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("--%s: usage %q does not end with its environment variable in brackets", f.Name, f.Usage)
			return
		}
		if !regexp.MustCompile(flagPattern(f.Name) + `[^\n]*\[` + regexp.QuoteMeta(m[1]) + `\]`).MatchString(doc) {
			t.Errorf("doc.go does not name %s beside --%s", m[1], f.Name)
		}
	})
	if n == 0 {
		t.Fatal("the worker's FlagSet has no flags")
	}
}

// envInUsage finds the environment variable at the end of a flag's usage.
var envInUsage = regexp.MustCompile(`\[([A-Z][A-Z0-9_]*)\]$`)

// packageDoc returns the text of the package doc comment in doc.go.
func packageDoc(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("doc.go has no package doc")
	}
	return f.Doc.Text()
}

// flagPattern matches --name as a whole flag (--log does not match in
// --log-level).
func flagPattern(name string) string {
	return `(^|[^A-Za-z0-9-])--` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9-])`
}
