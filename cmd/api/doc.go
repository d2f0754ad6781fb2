// Command api serves the producer API of essworker over HTTP: any system
// with an HTTP client submits detach requests (the job contract of package
// essworker/tasks) and follows its jobs to their end, authenticated by bearer
// tokens.
//
// Usage:
//
//	api --tokens-file FILE [--addr HOST:PORT] [--redis-url URL]
//	    [--tls-cert-file F --tls-key-file F] [--log-level L] [--log-format F]
//	    [--shutdown-timeout D]
//	api --insecure-no-auth ...   (local runs only)
//
// Every flag has an environment variable; a flag on the command line wins:
//
//   - --addr (API_ADDR, default 127.0.0.1:8088): listen address.
//   - --redis-url (REDIS_URL, default redis://127.0.0.1:6379/0): redis://,
//     rediss:// (TLS) or redis-sentinel://, as the worker's;
//     --redis-tls-ca-file (REDIS_TLS_CA_FILE) for a private CA.
//   - --tokens-file (API_TOKENS_FILE): one client a line, NAME:TOKEN, '#'
//     comments; a token has at least 16 characters. Read at start and again on
//     SIGHUP (a bad file then keeps the tokens in use, with an error logged).
//   - --insecure-no-auth (API_INSECURE_NO_AUTH, default false): accept
//     requests without a token, logged loudly at start.
//   - --tls-cert-file, --tls-key-file (API_TLS_CERT_FILE, API_TLS_KEY_FILE):
//     serve HTTPS.
//   - --log-level (LOG_LEVEL, info), --log-format (LOG_FORMAT, json),
//     --shutdown-timeout (SHUTDOWN_TIMEOUT, 30s): as the worker's.
//
// Routes: POST /v1/detach-jobs[?queue=NAME], GET
// /v1/detach-jobs/{client_token}[?wait=DURATION], POST
// /v1/drain-jobs[?queue=NAME] and GET /v1/drain-jobs/{client_token}[?wait=DURATION]
// (drains: a load balancer out of every scaling group of a region), GET /v1/openapi.yaml (the
// OpenAPI document, api/openapi.yaml), GET /healthz, /readyz, /metrics. See
// README.md, "Producers in other languages".
//
// Exit status: 0 after SIGTERM or SIGINT, once the requests in flight are
// answered; 1 when Redis does not answer at start (the message names the
// address, never the password) or the server fails; 2 on bad flags or
// configuration: no tokens file and no --insecure-no-auth, both, a tokens file
// without a valid line, unreadable TLS files. The reason, naming the flag, goes
// to standard error. Tokens never appear in logs: a request is logged with its
// client's NAME.
package main
