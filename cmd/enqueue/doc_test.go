package main

import (
	"flag"
	"go/parser"
	"go/token"
	"regexp"
	"testing"
)

// TestDocNamesEveryFlag keeps doc.go in step with the command line: every flag
// of the FlagSet, and the environment variable its usage names if any, must
// appear in the package doc.
func TestDocNamesEveryFlag(t *testing.T) {
	t.Parallel()
	doc := packageDoc(t)
	fs := newFlagSet(&options{given: map[string]bool{}}, func(string) (string, bool) { return "", false })
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !regexp.MustCompile(flagPattern(f.Name)).MatchString(doc) {
			t.Errorf("doc.go does not name --%s", f.Name)
		}
		if m := envInUsage.FindStringSubmatch(f.Usage); m != nil && !regexp.MustCompile(`\b`+regexp.QuoteMeta(m[1])+`\b`).MatchString(doc) {
			t.Errorf("doc.go does not name %s, the variable of --%s", m[1], f.Name)
		}
	})
	if n == 0 {
		t.Fatal("enqueue's FlagSet has no flags")
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

// flagPattern matches --name as a whole flag (--wait does not match in
// --wait-timeout).
func flagPattern(name string) string {
	return `(^|[^A-Za-z0-9-])--` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9-])`
}
