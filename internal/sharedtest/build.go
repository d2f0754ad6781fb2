package sharedtest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
)

// BuildBinaries builds the main packages pkgs, given by import path (such as
// "essworker/cmd/worker"), into dir with one `go build` and flags (such as
// "-race"), and returns each binary's path in the order of pkgs. go runs in
// the current directory, which must be inside the module; a test's is its
// package's directory.
func BuildBinaries(ctx context.Context, dir string, flags []string, pkgs ...string) ([]string, error) {
	if len(pkgs) == 0 {
		return nil, errors.New("BuildBinaries: pkgs is empty")
	}
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", dir+string(filepath.Separator))
	args = append(args, pkgs...)
	if out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %v: %w\n%s", pkgs, err, out)
	}
	paths := make([]string, len(pkgs))
	for i, pkg := range pkgs {
		paths[i] = filepath.Join(dir, path.Base(pkg))
	}
	return paths, nil
}
