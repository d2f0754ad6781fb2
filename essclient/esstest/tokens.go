package esstest

import "time"

// tokenRetention is how long a ClientToken is remembered (by the Clock).
const tokenRetention = 24 * time.Hour

// maxClientTokenLen is the longest ClientToken ESS accepts.
const maxClientTokenLen = 64

// tokenEntry is the answer given to the first successful request with a token.
type tokenEntry struct {
	key         string
	fingerprint string
	answer      response
	at          time.Time
}

// tokenStore remembers successful answers by action and ClientToken. Only
// successes are kept: a request that failed did nothing, so its retry must
// be free to do the work.
type tokenStore struct {
	entries map[string]*tokenEntry
	log     []*tokenEntry // insertion order, for pruning
}

func tokenKey(action, token string) string { return action + "\x00" + token }

func (s *tokenStore) get(key string) *tokenEntry { return s.entries[key] }

func (s *tokenStore) put(key, fingerprint string, answer response, now time.Time) {
	t := &tokenEntry{key: key, fingerprint: fingerprint, answer: answer, at: now}
	s.entries[key] = t
	s.log = append(s.log, t)
}

// prune forgets tokens older than tokenRetention. The log is in insertion
// order, so it stops at the first one to keep.
func (s *tokenStore) prune(now time.Time) {
	for len(s.log) > 0 && now.Sub(s.log[0].at) >= tokenRetention {
		t := s.log[0]
		s.log = s.log[1:]
		if s.entries[t.key] == t {
			delete(s.entries, t.key)
		}
	}
}

// nonceStore remembers SignatureNonces for the gateway's window, by real time.
type nonceStore struct {
	seen map[string]time.Time
	log  []nonceEntry
}

type nonceEntry struct {
	key string
	at  time.Time
}

// use records a nonce; it reports false if the nonce was seen within the window.
func (s *nonceStore) use(key string, now time.Time) bool {
	for len(s.log) > 0 && now.Sub(s.log[0].at) >= gatewayWindow {
		n := s.log[0]
		s.log = s.log[1:]
		if s.seen[n.key].Equal(n.at) {
			delete(s.seen, n.key)
		}
	}
	if _, ok := s.seen[key]; ok {
		return false
	}
	s.seen[key] = now
	s.log = append(s.log, nonceEntry{key, now})
	return true
}
