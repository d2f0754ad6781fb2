package sharedtest

import (
	"flag"
	"go/parser"
	"go/token"
	"regexp"
	"testing"
)

// envInUsage finds the environment variable at the end of a flag's usage,
// written in brackets: "Redis URL [REDIS_URL]".
var envInUsage = regexp.MustCompile(`\[([A-Z][A-Z0-9_]*)\]$`)

// DocNamesEveryFlag fails t unless the package doc in doc.go, in the test's
// working directory (the package's own), names every flag of fs as --name,
// and the environment variable that ends the flag's usage in brackets. With
// strict, every flag must have such a variable, and the doc must name it on
// the line that names the flag.
func DocNamesEveryFlag(t testing.TB, fs *flag.FlagSet, strict bool) {
	t.Helper()
	doc := packageDoc(t)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !regexp.MustCompile(flagPattern(f.Name)).MatchString(doc) {
			t.Errorf("doc.go does not name --%s", f.Name)
		}
		m := envInUsage.FindStringSubmatch(f.Usage)
		switch {
		case m == nil && strict:
			t.Errorf("--%s: usage %q does not end with its environment variable in brackets", f.Name, f.Usage)
		case m == nil:
		case strict && !regexp.MustCompile(flagPattern(f.Name)+`[^\n]*\[`+regexp.QuoteMeta(m[1])+`\]`).MatchString(doc):
			t.Errorf("doc.go does not name %s beside --%s", m[1], f.Name)
		case !regexp.MustCompile(`\b` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(doc):
			t.Errorf("doc.go does not name %s, the variable of --%s", m[1], f.Name)
		}
	})
	if n == 0 {
		t.Fatal("the FlagSet has no flags")
	}
}

// packageDoc returns the text of the package doc comment in doc.go.
func packageDoc(t testing.TB) string {
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
