package webhook

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	DefaultBackoffInitial       = 5 * time.Second
	DefaultBackoffMax           = 2 * time.Hour
	DefaultGiveUpAfter          = 72 * time.Hour
	DefaultDisableAfterFailures = 50
	DefaultDisableAfter         = 24 * time.Hour
	DefaultTimeout              = 10 * time.Second
	DefaultFanoutEvery          = 5 * time.Second
	// DefaultBatch is how many feed entries and due deliveries one fan-out
	// reads at a time.
	DefaultBatch = 500
)

// Config tunes webhook deliveries (the webhooks section of the config).
type Config struct {
	// BackoffInitial is the wait after the first failed try; each later
	// failure doubles it, up to BackoffMax.
	BackoffInitial time.Duration `yaml:"backoff_initial"`
	BackoffMax     time.Duration `yaml:"backoff_max"`
	// GiveUpAfter is how long after its event a delivery is retried.
	GiveUpAfter time.Duration `yaml:"give_up_after"`
	// DisableAfterFailures consecutive failures spanning at least
	// DisableAfter disable an endpoint.
	DisableAfterFailures int           `yaml:"disable_after_failures"`
	DisableAfter         time.Duration `yaml:"disable_after"`
	// Timeout bounds one request.
	Timeout time.Duration `yaml:"timeout"`
	// FanoutEvery is how often the scheduler makes deliveries of new
	// events and queues those due.
	FanoutEvery time.Duration `yaml:"fanout_every"`
	// AllowPrivateAddresses lets requests go to loopback and private
	// addresses and to http URLs. For tests and local demos only.
	AllowPrivateAddresses bool `yaml:"allow_private_addresses"`
}

// WithDefaults returns c with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.BackoffInitial == 0 {
		c.BackoffInitial = DefaultBackoffInitial
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.GiveUpAfter == 0 {
		c.GiveUpAfter = DefaultGiveUpAfter
	}
	if c.DisableAfterFailures == 0 {
		c.DisableAfterFailures = DefaultDisableAfterFailures
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.FanoutEvery == 0 {
		c.FanoutEvery = DefaultFanoutEvery
	}
	return c
}

// Validate reports every bad setting, each named by its config key.
func (c Config) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("webhooks.%s is %s: want a positive duration", name, d))
		}
	}
	positive("backoff_initial", c.BackoffInitial)
	positive("backoff_max", c.BackoffMax)
	positive("give_up_after", c.GiveUpAfter)
	positive("disable_after", c.DisableAfter)
	positive("timeout", c.Timeout)
	positive("fanout_every", c.FanoutEvery)
	if c.BackoffMax > 0 && c.BackoffInitial > c.BackoffMax {
		errs = append(errs, fmt.Errorf("webhooks.backoff_initial %s is more than webhooks.backoff_max %s", c.BackoffInitial, c.BackoffMax))
	}
	if c.DisableAfterFailures < 1 {
		errs = append(errs, fmt.Errorf("webhooks.disable_after_failures is %d: want at least 1", c.DisableAfterFailures))
	}
	return errors.Join(errs...)
}

// Backoff returns the wait after the n-th failed try (n from 1):
// BackoffInitial doubled n-1 times, at most BackoffMax.
func (c Config) Backoff(n int) time.Duration {
	d := c.BackoffInitial
	for i := 1; i < n && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}
