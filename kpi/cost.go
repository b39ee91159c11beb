package kpi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Micros is an amount of money in millionths of the currency unit, so that
// prices such as 0.0079 a segment add up exactly.
type Micros int64

// ParseMicros reads a non-negative decimal amount with at most six
// decimals ("0.0079", "0.014", "1").
func ParseMicros(s string) (Micros, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty amount")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		return 0, fmt.Errorf("amount %q has more than 6 decimals", s)
	}
	if whole == "" || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("amount %q is not a non-negative decimal number", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1_000_000_000 {
		return 0, fmt.Errorf("amount %q is not a non-negative decimal number", s)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q is not a non-negative decimal number", s)
		}
	}
	return Micros(w*1_000_000 + f), nil
}

// String formats m with as many decimals as it needs, at least two.
func (m Micros) String() string {
	s := fmt.Sprintf("%d.%06d", m/1_000_000, m%1_000_000)
	s = strings.TrimRight(s, "0")
	if i := strings.IndexByte(s, '.'); len(s)-i < 3 {
		s += strings.Repeat("0", 3-(len(s)-i))
	}
	return s
}

// Prices is what the channels cost: per SMS segment, per call minute (each
// call rounded up to the minute) and per email, in Currency.
type Prices struct {
	Currency       string
	SMSPerSegment  Micros
	VoicePerMinute Micros
	EmailPerEmail  Micros
}

// Cost prices the quantities of c.
func (p Prices) Cost(c Counts) Micros {
	return Micros(c.Segments)*p.SMSPerSegment + Micros(c.CallMinutes)*p.VoicePerMinute + Micros(c.Emails)*p.EmailPerEmail
}

// CostPerCure is Cost(c) divided by the cures, rounded to the micro; false
// when nothing was cured.
func (p Prices) CostPerCure(c Counts) (Micros, bool) {
	if c.Cured == 0 {
		return 0, false
	}
	cost := p.Cost(c)
	return (cost + Micros(c.Cured)/2) / Micros(c.Cured), true
}
