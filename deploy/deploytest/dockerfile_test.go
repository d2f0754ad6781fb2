package deploytest

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDockerfile checks what the image must be without a Docker engine: a
// multi-stage build of static binaries into a small final stage that runs as a
// numeric non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(deployPath(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var stages []string // each stage's text, from its FROM on
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(line)), "FROM ") {
			stages = append(stages, "")
		}
		if len(stages) > 0 {
			stages[len(stages)-1] += line + "\n"
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	build, final := strings.Join(stages[:len(stages)-1], ""), stages[len(stages)-1]
	for _, want := range []string{"CGO_ENABLED=0", "go build", "./cmd/worker", "./cmd/api", "./cmd/enqueue", "./cmd/ess-emulator"} {
		if !strings.Contains(build, want) {
			t.Errorf("build stage has no %q", want)
		}
	}
	// Alpine: its busybox wget runs docker-compose's healthchecks.
	if !regexp.MustCompile(`(?m)^FROM alpine:`).MatchString(final) {
		t.Errorf("final stage is not alpine:\n%s", final)
	}
	for _, bin := range []string{"worker", "api", "enqueue", "ess-emulator"} {
		if !regexp.MustCompile(`(?m)^COPY --from=\S+ .*/` + regexp.QuoteMeta(bin) + `\b`).MatchString(final) {
			t.Errorf("final stage does not copy %s", bin)
		}
	}
	m := regexp.MustCompile(`(?m)^USER (\d+)(?::(\d+))?\s*$`).FindStringSubmatch(final)
	if m == nil {
		t.Fatalf("final stage has no numeric USER (Kubernetes checks runAsNonRoot on the UID)")
	}
	if uid, _ := strconv.Atoi(m[1]); uid == 0 {
		t.Errorf("USER %s is root", m[1])
	}
}
