// Package workertest runs an essworker worker inside a test, the way
// net/http/httptest runs a server: Run starts it on the test's config, waits
// until /readyz answers, and stops it when the test ends, failing the test if
// Run returned an error. Get fetches one of its HTTP endpoints.
package workertest
