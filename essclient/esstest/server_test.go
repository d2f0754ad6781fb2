package esstest_test

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ess"

	"essworker/essclient/esstest"
)

// newSDKWithProvider is the real SDK client of srv with the credentials of p.
func newSDKWithProvider(t *testing.T, srv *esstest.Server, p provider.Provider) *sdk {
	t.Helper()
	endpointMapOnce.Do(func() { ess.GetEndpointMap() })
	client, err := ess.NewClientWithProvider(esstest.DefaultRegionID, p)
	if err != nil {
		t.Fatalf("ess.NewClientWithProvider: %v", err)
	}
	return &sdk{t: t, client: client, host: strings.TrimPrefix(srv.URL, "http://")}
}

// TestUnstartedServerWrapsHandler wraps the handler of an unstarted server,
// as cmd/bench does to count what the emulator is asked: once started, the
// wrapper sees the SDK's call, the emulator answers it, and the server's
// Credentials sign it.
func TestUnstartedServerWrapsHandler(t *testing.T) {
	t.Parallel()
	srv := esstest.NewUnstartedServer(esstest.Config{})
	t.Cleanup(srv.Close)
	if srv.URL != "" {
		t.Fatalf("URL %q before Start, want empty", srv.URL)
	}
	if err := srv.AddScalingGroup(group("asg-1", "lb-1", "lb-2")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var actions []string
	emulator := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			mu.Lock()
			actions = append(actions, r.Form.Get("Action"))
			mu.Unlock()
		}
		emulator.ServeHTTP(w, r)
	})
	srv.Start()
	if want := "http://" + srv.Listener.Addr().String(); srv.URL != want {
		t.Fatalf("URL %q after Start, want %q", srv.URL, want)
	}

	newSDKWithProvider(t, srv, srv.Credentials()).mustDetach("asg-1", false, "tok-1", "lb-1")
	mu.Lock()
	defer mu.Unlock()
	if len(actions) != 1 || actions[0] != esstest.ActionDetachLoadBalancers {
		t.Fatalf("the wrapper saw %v, want one DetachLoadBalancers", actions)
	}
	if s := srv.Stats(); s.Calls[esstest.ActionDetachLoadBalancers]["OK"] != 1 || s.DetachesApplied != 1 {
		t.Fatalf("stats %+v, want one detach answered OK and applied", s)
	}
}

func TestStartTwicePanics(t *testing.T) {
	t.Parallel()
	srv := esstest.NewServer(esstest.Config{})
	t.Cleanup(srv.Close)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("second Start did not panic")
		}
	}()
	srv.Start()
}

// TestCloseUnstartedServer: Close frees the port of a server never started,
// may come twice, and Start after it panics.
func TestCloseUnstartedServer(t *testing.T) {
	t.Parallel()
	srv := esstest.NewUnstartedServer(esstest.Config{})
	addr := srv.Listener.Addr().String()
	srv.Close()
	srv.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s accepts connections after Close", addr)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Start after Close did not panic")
		}
	}()
	srv.Start()
}

// TestCredentials: the default key, else the smallest AccessKeyId of
// Config.AccessKeys, with its secret (the SDK's signature passes the gateway).
func TestCredentials(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		keys           map[string]string
		wantID, secret string
	}{
		{"default", nil, esstest.DefaultAccessKeyID, esstest.DefaultAccessKeySecret},
		{"smallest ID", map[string]string{"AK-C": "secret-c", "AK-A": "secret-a", "AK-B": "secret-b"}, "AK-A", "secret-a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, esstest.Config{AccessKeys: tt.keys}, group("asg-1", "lb-1"))
			cred, err := srv.Credentials().Resolve()
			if err != nil {
				t.Fatal(err)
			}
			ak, ok := cred.(*credentials.StaticAKCredentialsProvider)
			if !ok {
				t.Fatalf("Resolve = %T, want *credentials.StaticAKCredentialsProvider", cred)
			}
			got, err := ak.GetCredentials()
			if err != nil || got.AccessKeyId != tt.wantID || got.AccessKeySecret != tt.secret || got.SecurityToken != "" {
				t.Fatalf("credentials %s (%v), want %s with its secret and no token", got.AccessKeyId, err, tt.wantID)
			}
			newSDKWithProvider(t, srv, srv.Credentials()).mustDetach("asg-1", false, "tok-1", "lb-1")
		})
	}
}
