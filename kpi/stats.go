package kpi

import (
	"fmt"
	"math"
)

// Z95 is the standard normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// DefaultAlpha is the significance level below which a comparison names a
// better arm.
const DefaultAlpha = 0.05

// Wilson returns the Wilson score interval of the proportion num/den at the
// normal quantile z (Z95 for 95%): the interval Newcombe (1998)
// recommends for a single proportion; it stays within [0, 1] and is
// sensible at 0 and den. ok is false when den is 0.
func Wilson(num, den int64, z float64) (low, high float64, ok bool) {
	if den <= 0 || num < 0 || num > den {
		return 0, 0, false
	}
	n := float64(den)
	p := float64(num) / n
	z2 := z * z
	d := 1 + z2/n
	center := (p + z2/(2*n)) / d
	half := z / d * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return max(0, center-half), min(1, center+half), true
}

// ZTest is a two-sided two-proportion z-test of a against b with the
// pooled variance: Z is positive when a's rate is higher; P is the
// two-sided p-value. ok is false when either denominator is 0 or the
// pooled rate is 0 or 1 (no variance: nothing to test).
func ZTest(a, b Rate) (z, p float64, ok bool) {
	if a.Den <= 0 || b.Den <= 0 {
		return 0, 1, false
	}
	pa, pb := float64(a.Num)/float64(a.Den), float64(b.Num)/float64(b.Den)
	pool := float64(a.Num+b.Num) / float64(a.Den+b.Den)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(a.Den) + 1/float64(b.Den)))
	if se == 0 {
		return 0, 1, false
	}
	z = (pa - pb) / se
	return z, math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// ArmRate is one experiment arm's numerator and denominator of a metric.
type ArmRate struct {
	Arm  string
	Rate Rate
}

// ArmResult is one arm's rate with its 95% Wilson interval.
type ArmResult struct {
	Arm   string  `json:"arm"`
	Rate  Rate    `json:"rate"`
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// PairTest is the z-test of a challenger against the champion.
type PairTest struct {
	Champion   string `json:"champion"`
	Challenger string `json:"challenger"`
	// Z is positive when the challenger's rate is higher.
	Z float64 `json:"z"`
	P float64 `json:"p"`
	// Significant is P below the comparison's per-test level.
	Significant bool `json:"significant"`
}

// Comparison is the result of comparing an experiment's arms on one
// metric.
type Comparison struct {
	// Metric is the KPI compared (a Definitions name).
	Metric string      `json:"metric"`
	Arms   []ArmResult `json:"arms"`
	// Tests compare each challenger with the champion (the first arm).
	Tests []PairTest `json:"tests"`
	// Alpha is the overall significance level; each of the k-1 tests is
	// held to Alpha/(k-1) (Bonferroni), so naming a better arm by chance
	// stays below Alpha.
	Alpha float64 `json:"alpha"`
	// Better is the arm found better, or "" when no test is significant:
	// the best challenger among those significantly above the champion, or
	// the champion when it is significantly above every challenger.
	Better string `json:"better,omitempty"`
}

// Compare compares the arms' rates of metric: a Wilson interval per arm
// and a two-proportion z-test of each challenger against the champion
// (arms[0]). alpha 0 means DefaultAlpha.
func Compare(metric string, arms []ArmRate, alpha float64) (Comparison, error) {
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if alpha <= 0 || alpha >= 1 {
		return Comparison{}, fmt.Errorf("compare %s: alpha %g is not between 0 and 1", metric, alpha)
	}
	if len(arms) < 2 {
		return Comparison{}, fmt.Errorf("compare %s: %d arms; an experiment compares at least 2", metric, len(arms))
	}
	c := Comparison{Metric: metric, Alpha: alpha}
	for _, a := range arms {
		if a.Rate.Num < 0 || a.Rate.Num > a.Rate.Den {
			return Comparison{}, fmt.Errorf("compare %s: arm %s: %d out of %d is not a proportion", metric, a.Arm, a.Rate.Num, a.Rate.Den)
		}
		r := ArmResult{Arm: a.Arm, Rate: a.Rate}
		r.Value, _ = a.Rate.Value()
		r.Low, r.High, _ = Wilson(a.Rate.Num, a.Rate.Den, Z95)
		c.Arms = append(c.Arms, r)
	}
	level := alpha / float64(len(arms)-1)
	champ := arms[0]
	beatsAll := true
	bestUp := -1
	for i, a := range arms[1:] {
		z, p, ok := ZTest(a.Rate, champ.Rate)
		t := PairTest{Champion: champ.Arm, Challenger: a.Arm, Z: z, P: p, Significant: ok && p < level}
		c.Tests = append(c.Tests, t)
		switch {
		case t.Significant && z > 0:
			beatsAll = false
			if bestUp < 0 || c.Arms[i+1].Value > c.Arms[bestUp].Value {
				bestUp = i + 1
			}
		case !(t.Significant && z < 0):
			beatsAll = false
		}
	}
	switch {
	case bestUp > 0:
		c.Better = arms[bestUp].Arm
	case beatsAll:
		c.Better = champ.Arm
	}
	return c, nil
}
