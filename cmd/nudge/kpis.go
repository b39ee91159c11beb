package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/store"
)

// DefaultKPIRollupEvery is how often the scheduler brings the KPI rollups
// up to date unless kpis.rollup_every says otherwise.
const DefaultKPIRollupEvery = time.Hour

// PricesConfig is the price list cost per cure is computed with: decimal
// amounts in Currency ("0.0079"), at most six decimals.
type PricesConfig struct {
	Currency string           `yaml:"currency"`
	SMS      SMSPriceConfig   `yaml:"sms"`
	Voice    VoicePriceConfig `yaml:"voice"`
	Email    EmailPriceConfig `yaml:"email"`
}

// SMSPriceConfig prices a text message by the segment.
type SMSPriceConfig struct {
	PerSegment string `yaml:"per_segment"`
}

// VoicePriceConfig prices a call by the started minute.
type VoicePriceConfig struct {
	PerMinute string `yaml:"per_minute"`
}

// EmailPriceConfig prices an email.
type EmailPriceConfig struct {
	PerMessage string `yaml:"per_message"`
}

// KPIConfig tunes the KPIs.
type KPIConfig struct {
	// CureDays is how many days after the first reminder of a cycle a
	// payment that ends it counts as a cure (default 30, at most 365).
	CureDays int `yaml:"cure_days"`
	// RollupEvery is how often the scheduler recomputes the daily rollups
	// (default 1h; at least 1m).
	RollupEvery time.Duration `yaml:"rollup_every"`
}

func (k KPIConfig) withDefaults() KPIConfig {
	if k.CureDays == 0 {
		k.CureDays = store.DefaultCureDays
	}
	if k.RollupEvery == 0 {
		k.RollupEvery = DefaultKPIRollupEvery
	}
	return k
}

// kpiSettings checks prices and kpis and returns the price list. Errors
// name the setting, and its file and line when it was read from a file.
func (c Config) kpiSettings() (kpi.Prices, error) {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, &settingError{field: field, err: err}) }
	p := kpi.Prices{Currency: strings.TrimSpace(c.Prices.Currency)}
	for _, f := range []struct {
		field, value string
		to           *kpi.Micros
	}{
		{"prices.sms.per_segment", c.Prices.SMS.PerSegment, &p.SMSPerSegment},
		{"prices.voice.per_minute", c.Prices.Voice.PerMinute, &p.VoicePerMinute},
		{"prices.email.per_message", c.Prices.Email.PerMessage, &p.EmailPerEmail},
	} {
		if strings.TrimSpace(f.value) == "" {
			continue
		}
		m, err := kpi.ParseMicros(f.value)
		if err != nil {
			bad(f.field, err)
			continue
		}
		*f.to = m
	}
	priced := p.SMSPerSegment > 0 || p.VoicePerMinute > 0 || p.EmailPerEmail > 0
	switch {
	case p.Currency != "" && (len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency):
		bad("prices.currency", fmt.Errorf("%q is not a three-letter ISO 4217 code like USD", p.Currency))
	case priced && p.Currency == "":
		bad("prices.currency", errors.New("is required with prices"))
	}
	k := c.KPIs.withDefaults()
	if k.CureDays < 1 || k.CureDays > store.MaxCureDays {
		bad("kpis.cure_days", fmt.Errorf("must be between 1 and %d, not %d", store.MaxCureDays, k.CureDays))
	}
	if k.RollupEvery < time.Minute {
		bad("kpis.rollup_every", fmt.Errorf("must be at least 1m, not %s", k.RollupEvery))
	}
	return p, c.src.locate(errors.Join(errs...))
}

// kpiRollupLock is the Redis key that lets one scheduler replica at a time
// run the rollup pass: the rollups stay correct without it (each chunk is
// replaced under a database lock), it only saves repeating the work.
const kpiRollupLock = "nudge:lock:kpi-rollup"

// rollupKPIs brings every lender's KPI rollups up to date, logging what
// fails and going on with the next lender. A replica that finds another
// one's pass under way (kpiRollupLock, held for half of kpis.rollup_every)
// skips its own.
func (rt *runtime) rollupKPIs(ctx context.Context) {
	if rt.rdb != nil {
		ok, err := rt.rdb.SetNX(ctx, kpiRollupLock, "1", rt.cfg.KPIs.RollupEvery/2).Result()
		switch {
		case err != nil:
			rt.logger.Warn("kpi rollup: taking the lock (running anyway)", "err", err)
		case !ok:
			rt.logger.Debug("kpi rollup: another scheduler runs it")
			return
		}
	}
	lenders, err := rt.db.ListLenders(ctx)
	if err != nil {
		rt.logger.Warn("kpi rollup: listing lenders", "err", err)
		return
	}
	now := rt.clock.Now()
	for _, l := range lenders {
		res, err := rt.db.RollupKPIs(ctx, l.ID, now, rt.cfg.KPIs.CureDays)
		if err != nil {
			if ctx.Err() == nil {
				rt.logger.Warn("kpi rollup", "lender", l.ID, "err", err)
			}
			continue
		}
		rt.logger.Debug("kpi rollup", "lender", l.ID, "from", res.From.String(), "through", res.Through.Format(time.RFC3339),
			"settled", res.Settled, "rows", res.Rows, "yielded", res.Yielded)
	}
}

// runKPIRollups brings the KPI rollups up to date at start and then every
// kpis.rollup_every, until ctx is done.
func (rt *runtime) runKPIRollups(ctx context.Context) {
	t := time.NewTicker(rt.cfg.KPIs.RollupEvery)
	defer t.Stop()
	for {
		rt.rollupKPIs(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
