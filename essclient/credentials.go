package essclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
)

// maxRememberedSecrets bounds the secrets kept for scrubbing: rotating STS
// tokens would otherwise grow the list forever, and only recent ones can still
// appear in an error.
const maxRememberedSecrets = 8

// noCredentialsHint is what an operator has to do; it names the variables.
const noCredentialsHint = "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET " +
	"(and ALIBABA_CLOUD_SECURITY_TOKEN for STS), or provide a credentials file " +
	"(ALIBABA_CLOUD_CREDENTIALS_FILE), an OIDC role or an ECS RAM role"

// StaticCredentials returns a Provider of a fixed access key, with an STS
// security token when securityToken is not empty. Meant for the emulator and
// tests; production uses the default chain (Config.Credentials nil).
func StaticCredentials(accessKeyID, accessKeySecret, securityToken string) provider.Provider {
	return staticProvider{id: accessKeyID, secret: accessKeySecret, token: securityToken}
}

type staticProvider struct{ id, secret, token string }

func (p staticProvider) Resolve() (auth.Credential, error) {
	if p.token != "" {
		return credentials.NewStaticSTSCredentialsProvider(p.id, p.secret, p.token), nil
	}
	return credentials.NewStaticAKCredentialsProvider(p.id, p.secret), nil
}

// credentialSource is the one credentials provider of a Client, shared by all
// its SDK clients. It serializes resolution (the SDK's default chain is not
// safe for concurrent use), resolves lazily, starts over after a failure (the
// default chain otherwise sticks to the last provider it tried) and remembers
// the secrets it hands out so that errors can be scrubbed of them.
type credentialSource struct {
	configured provider.Provider // nil: the SDK's default chain

	mu       sync.Mutex
	resolved credentials.CredentialsProvider
	secrets  []string
}

// GetCredentials implements credentials.CredentialsProvider; the SDK calls it
// to sign each request. Failures are *credentialError.
func (s *credentialSource) GetCredentials() (*credentials.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resolved == nil {
		p, err := s.resolve()
		if err != nil {
			return nil, s.fail(err)
		}
		s.resolved = p
	}
	cc, err := s.resolved.GetCredentials()
	if err == nil && (cc == nil || cc.BearerToken == "" && (cc.AccessKeyId == "" || cc.AccessKeySecret == "")) {
		err = errors.New("the provider returned an empty access key")
	}
	if err != nil {
		s.resolved = nil
		return nil, s.fail(err)
	}
	s.remember(cc.AccessKeySecret, cc.SecurityToken, cc.BearerToken)
	return cc, nil
}

// forget drops the resolved provider, so the next call resolves credentials
// again: the configured Provider's Resolve, or a new default chain, which
// reads the environment, the files and the role anew.
func (s *credentialSource) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resolved = nil
}

// GetProviderName implements credentials.CredentialsProvider.
func (s *credentialSource) GetProviderName() string { return "essclient" }

func (s *credentialSource) resolve() (credentials.CredentialsProvider, error) {
	if s.configured == nil {
		// Built per attempt: it reads the environment when built.
		return credentials.NewDefaultCredentialsProvider(), nil
	}
	cred, err := s.configured.Resolve()
	if err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, errors.New("Config.Credentials found none")
	}
	return auth.ToCredentialsProvider(cred)
}

func (s *credentialSource) fail(cause error) *credentialError {
	text := Scrub(cause.Error(), s.secrets...)
	return &credentialError{msg: truncate(fmt.Sprintf("%s (%s)", noCredentialsHint, text))}
}

// remember must be called with s.mu held.
func (s *credentialSource) remember(secrets ...string) {
	for _, v := range secrets {
		if v == "" || slices.Contains(s.secrets, v) {
			continue
		}
		s.secrets = append(s.secrets, v)
		if len(s.secrets) > maxRememberedSecrets {
			s.secrets = slices.Delete(s.secrets, 0, 1)
		}
	}
}

// knownSecrets returns the secrets handed out so far, for Scrub.
func (s *credentialSource) knownSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.secrets)
}

// check resolves credentials now, honouring ctx (resolution may reach the ECS
// metadata service or an STS endpoint).
func (s *credentialSource) check(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		_, err := s.GetCredentials()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// credentialError is a failure to obtain credentials; its text is scrubbed.
type credentialError struct{ msg string }

func (e *credentialError) Error() string { return "no Alibaba Cloud credentials: " + e.msg }

func (e *credentialError) Unwrap() error { return ErrNoCredentials }
