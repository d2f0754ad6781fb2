package esstest

import (
	"fmt"
	"log/slog"
	"maps"
	"time"
)

// Defaults of Config and of ScalingGroup.
const (
	DefaultAccessKeyID      = "TESTAKID"
	DefaultAccessKeySecret  = "TESTSECRET"
	DefaultActivityDuration = 2 * time.Second
	DefaultRegionID         = "cn-hangzhou"
)

// Config configures an Emulator. The zero value is ready to use.
type Config struct {
	// AccessKeys maps AccessKeyId to its secret; the gateway accepts only these.
	// Default: {DefaultAccessKeyID: DefaultAccessKeySecret}.
	AccessKeys map[string]string
	// ActivityDuration is how long an asynchronous activity stays InProgress,
	// unless its group sets its own. Default: DefaultActivityDuration. Must not
	// be negative.
	ActivityDuration time.Duration
	// Clock is the emulator's notion of "now" for activities, tokens and the
	// throttle. Default: the real clock.
	Clock Clock
	// Seed seeds the randomness of the fault plan, so a run can be replayed.
	// Default (0): 1.
	Seed int64
	// Logger receives one line per API call (action, code, status, latency,
	// request ID; never a credential). Default (nil): silent.
	Logger *slog.Logger
}

// withDefaults validates cfg and fills in its defaults. It is the one place
// where Config is checked.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.ActivityDuration < 0 {
		return cfg, fmt.Errorf("esstest: Config.ActivityDuration %v is negative", cfg.ActivityDuration)
	}
	if cfg.ActivityDuration == 0 {
		cfg.ActivityDuration = DefaultActivityDuration
	}
	if len(cfg.AccessKeys) == 0 {
		cfg.AccessKeys = map[string]string{DefaultAccessKeyID: DefaultAccessKeySecret}
	} else {
		for id, secret := range cfg.AccessKeys {
			if id == "" || secret == "" {
				return cfg, fmt.Errorf("esstest: Config.AccessKeys: empty AccessKeyId or secret")
			}
		}
		cfg.AccessKeys = maps.Clone(cfg.AccessKeys)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
