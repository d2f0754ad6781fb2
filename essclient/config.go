package essclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"

	"essworker/internal/esslimits"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one ESS call (connect, TLS, request and answer).
	DefaultTimeout = 10 * time.Second
	// DefaultPoolSize is the number of SDK clients per region, that is the most
	// concurrent calls to one region.
	DefaultPoolSize = 4
)

// Limiter holds ESS calls to a rate. Wait blocks until one call may go, or
// returns an error (ctx done, limiter unavailable); the call is then not made.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Observer receives one event per ESS call and per limiter wait, for metrics.
// Its methods are called from many goroutines at once and must not block.
type Observer interface {
	// ObserveRequest reports one ESS call: its action, its outcome code ("OK",
	// the ESS error code, CodeNetwork when no answer came back, or the rare
	// SDK client code such as "SDK.InvalidParam") and its duration. Calls rejected before reaching ESS (bad input, missing
	// credentials, limiter failure) are not reported.
	ObserveRequest(action, code string, d time.Duration)
	// ObserveRateLimitWait reports how long one call waited in Limiter.Wait.
	ObserveRateLimitWait(d time.Duration)
}

// Config configures a Client. The zero value is not valid: DefaultRegion is
// required. New validates it and fills in the defaults.
type Config struct {
	// Endpoint overrides where calls go. Default "": the SDK's regional endpoint
	// of each region (ess.aliyuncs.com or ess.<region>.aliyuncs.com) over HTTPS.
	// "https://host[:port]" or "http://host[:port]" sends every call, whatever
	// its region, to that host over that scheme; plain http is meant for the
	// local emulator. A path, query, fragment or user info is an error.
	Endpoint string

	// DefaultRegion is the region of a call whose RegionID is empty, such as
	// "cn-hangzhou". Required.
	DefaultRegion string

	// Timeout bounds each ESS call. Default DefaultTimeout. A call uses the
	// smaller of Timeout and the time left until its context's deadline, as
	// both the connect and the read timeout of that one request.
	Timeout time.Duration

	// PoolSize is the number of SDK clients kept per region. Default
	// DefaultPoolSize. An SDK client serves one call at a time (its
	// http.Client timeouts are shared state), so this bounds the concurrent
	// calls per region; more callers wait for a free client.
	PoolSize int

	// Credentials resolves the access key, at the first call and again after a
	// failure. Default nil: the SDK's default chain: environment variables
	// ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
	// ALIBABA_CLOUD_SECURITY_TOKEN, then an OIDC role (Kubernetes), the CLI
	// profile and credentials file, then the ECS RAM role (unless
	// ALIBABA_CLOUD_ECS_METADATA_DISABLED=true). A Provider may return any
	// auth.Credential the SDK accepts, including a
	// credentials.CredentialsProvider; see StaticCredentials.
	Credentials provider.Provider

	// Limiter, when set, is waited on before every ESS call. Default nil: no
	// limit.
	Limiter Limiter

	// Observer, when set, receives every ESS call and limiter wait. Default
	// nil: nothing is reported.
	Observer Observer

	// Transport carries every call; it is shared by all SDK clients and never
	// modified. Default nil: a transport with Go's defaults, proxies from
	// HTTPS_PROXY/HTTP_PROXY/NO_PROXY (Go's rules), TLS 1.2 or later, and
	// connect and TLS handshake timeouts of Timeout. Set it to trust a private
	// CA or to route dials.
	Transport *http.Transport
}

// The SDK prints every request URL, query and headers (credentials included)
// to standard output when sdkDebugEnv, split at commas, holds sdkDebugFlag. It
// reads the variable once, at package init, and offers no way to turn that off,
// so New refuses to build a Client instead (ErrSDKDebug).
const (
	sdkDebugEnv  = "DEBUG"
	sdkDebugFlag = "sdk"
)

// sdkDebugOn reports whether v turns on the SDK's debug output, by the SDK's
// own rule (sdk/utils.Init).
func sdkDebugOn(v string) bool {
	return slices.Contains(strings.Split(v, ","), sdkDebugFlag)
}

// endpoint is a parsed Config.Endpoint.
type endpoint struct {
	scheme string // "https" or "http"
	domain string // host[:port]; "" for the SDK's regional endpoint
}

// withDefaults validates c and returns it with defaults filled in, plus the
// parsed endpoint. Every error names the offending field, or the environment
// variable.
func (c Config) withDefaults() (Config, endpoint, error) {
	if sdkDebugOn(os.Getenv(sdkDebugEnv)) {
		return c, endpoint{}, ErrSDKDebug
	}
	ep, err := parseEndpoint(c.Endpoint)
	if err != nil {
		return c, ep, err
	}
	if c.DefaultRegion == "" {
		return c, ep, errors.New("essclient: Config.DefaultRegion is required")
	}
	if !esslimits.ValidRegionID(c.DefaultRegion) {
		return c, ep, fmt.Errorf("essclient: Config.DefaultRegion %q is not a region ID", c.DefaultRegion)
	}
	switch {
	case c.Timeout < 0:
		return c, ep, fmt.Errorf("essclient: Config.Timeout %v is negative", c.Timeout)
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.PoolSize < 0:
		return c, ep, fmt.Errorf("essclient: Config.PoolSize %d is negative", c.PoolSize)
	case c.PoolSize == 0:
		c.PoolSize = DefaultPoolSize
	}
	return c, ep, nil
}

func parseEndpoint(s string) (endpoint, error) {
	if s == "" {
		return endpoint{scheme: "https"}, nil
	}
	// Scrub: a URL with user info may hold a password; never echo it.
	shown := Scrub(s)
	u, err := url.Parse(s)
	if err != nil {
		return endpoint{}, fmt.Errorf("essclient: Config.Endpoint %q is not a URL", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("essclient: Config.Endpoint %q must start with https:// or http://", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return endpoint{}, fmt.Errorf("essclient: Config.Endpoint %q has no host", shown)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return endpoint{}, fmt.Errorf("essclient: Config.Endpoint %q must be scheme://host[:port] only, without path, query, fragment or user info", shown)
	}
	return endpoint{scheme: u.Scheme, domain: u.Host}, nil
}
