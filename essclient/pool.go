package essclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"
)

// keepAlive is the TCP keep-alive period of the default transport's dialer.
const keepAlive = 30 * time.Second

// sdkInitMu serializes SDK client construction process-wide: the SDK fills
// its global endpoint map lazily, unguarded, at each construction.
var sdkInitMu sync.Mutex

// regionPool holds the SDK clients of one region. A client is taken for one
// call and given back when the SDK call returns, so no two calls ever share
// an SDK client (its http.Client timeouts are per-client mutable state).
type regionPool struct {
	free chan *sdkClient
}

// sdkClient is one SDK client and the transport that binds its current call
// to a context.
type sdkClient struct {
	ess *ess.Client
	rt  *callTransport
}

// callTransport gives each HTTP request of a call that call's context, which
// the SDK cannot: cancelling the call then also aborts the HTTP exchange, and
// the SDK client comes back to the pool at once. It is not an *http.Transport
// on purpose: the SDK rewrites the dialer, proxy and TLS settings of an
// *http.Transport on every request, which would race on a shared transport.
type callTransport struct {
	base http.RoundTripper
	// ctx is written by the goroutine that took the client from the pool,
	// before the call starts; only that call reads it.
	ctx context.Context
}

func (t *callTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// newRegionPool builds size SDK clients for region; it sends nothing.
func newRegionPool(region string, size int, scheme string, base http.RoundTripper, creds *credentialSource) (*regionPool, error) {
	p := &regionPool{free: make(chan *sdkClient, size)}
	for range size {
		rt := &callTransport{base: base}
		conf := sdk.NewConfig().WithScheme(strings.ToUpper(scheme)).WithAutoRetry(false)
		conf.Transport = rt
		sdkInitMu.Lock()
		c, err := ess.NewClientWithOptions(region, conf, creds)
		sdkInitMu.Unlock()
		if err != nil {
			return nil, err
		}
		p.free <- &sdkClient{ess: c, rt: rt}
	}
	return p, nil
}

// acquire takes a free client, waiting until one is free or ctx is done.
func (p *regionPool) acquire(ctx context.Context) (*sdkClient, error) {
	select {
	case c := <-p.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *regionPool) release(c *sdkClient) { p.free <- c }

// newTransport is the default Config.Transport.
func newTransport(cfg Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: keepAlive}).DialContext
	t.TLSHandshakeTimeout = cfg.Timeout
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	// Regions that share one endpoint host share its idle connections.
	t.MaxIdleConnsPerHost = 2 * cfg.PoolSize
	return t
}
