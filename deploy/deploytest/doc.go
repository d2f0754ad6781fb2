// Package deploytest checks the deployment files: deploy/ (Dockerfile,
// Prometheus configuration and alert rules, Grafana dashboard and provisioning,
// Kubernetes manifests) and the repository's docker-compose.yml.
//
// It runs the tools that read these files when they are installed (promtool,
// prometheus, docker-compose, kubectl; a test skips, naming the tool, only when
// its tool is missing), starts a real Prometheus against a live in-process
// worker to show that the configuration scrapes it and the rules load, and
// checks that every PromQL expression of the dashboard and the rules names only
// metrics a live worker exposes. The package holds tests only.
package deploytest
