package esstest

import (
	"maps"
	"slices"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
)

// Credentials returns the SDK credentials provider of the server's access
// key, for ess.NewClientWithProvider or essclient.Config.Credentials: the key
// of DefaultAccessKeyID with the default Config.AccessKeys, else the one of
// the smallest AccessKeyId. It is here rather than a call of
// essclient.StaticCredentials because essclient's own tests import esstest.
func (s *Server) Credentials() provider.Provider {
	id := slices.Min(slices.Collect(maps.Keys(s.cfg.AccessKeys)))
	return accessKey{id: id, secret: s.cfg.AccessKeys[id]}
}

// accessKey is a provider of one fixed access key.
type accessKey struct{ id, secret string }

func (k accessKey) Resolve() (auth.Credential, error) {
	return credentials.NewStaticAKCredentialsProvider(k.id, k.secret), nil
}
