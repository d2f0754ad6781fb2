package redisconn

import (
	"net/url"
	"strings"
)

// RedactURL returns u with its password replaced, for logs and errors.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return parsed.Redacted()
}

// RedactPassword masks the password of rawURL, raw or escaped, in text.
// Redis client errors are not known to quote it; this keeps it that way
// whatever a dependency does.
func RedactPassword(text, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return text
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return text
	}
	for _, v := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
		text = strings.ReplaceAll(text, v, "xxxxx")
	}
	return text
}
