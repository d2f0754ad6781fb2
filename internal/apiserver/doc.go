// Package apiserver is the HTTP producer API of essworker: authenticated
// routes that submit detach requests (tasks.Producer) and report their jobs,
// the OpenAPI document (package essworker/api), /healthz, /readyz and
// /metrics. cmd/api turns flags and environment variables into a Config and
// runs a Server; the worker's demo and the bench run one in process.
package apiserver
