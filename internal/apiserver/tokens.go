package apiserver

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"regexp"
	"strings"

	"essworker/internal/worker"
)

// minTokenLen is the shortest token a tokens file may hold: a short token
// can be guessed.
const minTokenLen = 16

// clientNamePattern: client names go to logs, so they are plain words.
var clientNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// client is one line of the tokens file: the name logged for its requests and
// the SHA-256 of its token (the token itself is not kept).
type client struct {
	name string
	sum  [sha256.Size]byte
}

// tokenSet is the clients of a tokens file.
type tokenSet struct {
	clients []client
}

// lookup returns the name of the client whose token is token. It compares
// with every client, in constant time for each, and fixed-length digests, so
// its duration says nothing about how much of a token matched.
func (s *tokenSet) lookup(token string) (string, bool) {
	sum := sha256.Sum256([]byte(token))
	name, found := "", 0
	for _, c := range s.clients {
		if subtle.ConstantTimeCompare(sum[:], c.sum[:]) == 1 {
			name, found = c.name, 1
		}
	}
	return name, found == 1
}

// loadTokens reads a tokens file: one client a line, NAME:TOKEN; blank lines
// and lines starting with # are skipped. A line that is not NAME:TOKEN (a
// name of letters, digits, '.', '_', '-'; a token of at least minTokenLen
// printable ASCII characters without spaces), or that repeats a name or a
// token, is skipped and reported in warnings by line number only, never its
// text. A file that cannot be read or holds no valid line is an error.
func loadTokens(path string) (*tokenSet, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &worker.FieldError{Field: "tokens-file", Reason: err.Error()}
	}
	set := &tokenSet{}
	var warnings []string
	names := map[string]bool{}
	sums := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), len(b)+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, token, ok := strings.Cut(line, ":")
		why := ""
		switch {
		case !ok:
			why = "not NAME:TOKEN"
		case !clientNamePattern.MatchString(name):
			why = "the name is not letters, digits, '.', '_' or '-' (at most 64)"
		case len(token) < minTokenLen:
			why = fmt.Sprintf("the token is shorter than %d characters", minTokenLen)
		case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }):
			why = "the token is not printable ASCII without spaces"
		case names[name]:
			why = fmt.Sprintf("client %s is named twice", name)
		}
		sum := sha256.Sum256([]byte(token))
		if why == "" && sums[sum] {
			why = "the token is that of an earlier line"
		}
		if why != "" {
			warnings = append(warnings, fmt.Sprintf("%s line %d skipped: %s", path, n, why))
			continue
		}
		names[name], sums[sum] = true, true
		set.clients = append(set.clients, client{name: name, sum: sum})
	}
	if len(set.clients) == 0 {
		return nil, warnings, &worker.FieldError{Field: "tokens-file", Reason: path + " holds no valid NAME:TOKEN line"}
	}
	return set, warnings, nil
}
