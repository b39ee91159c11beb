package sendtime

import (
	"math"
	"math/rand/v2"
)

// Beta draws from the Beta(alpha, beta) distribution with r, as
// X/(X+Y) with X ~ Gamma(alpha) and Y ~ Gamma(beta). Both parameters must
// be positive.
func Beta(r *rand.Rand, alpha, beta float64) float64 {
	x := gamma(r, alpha)
	y := gamma(r, beta)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// gamma draws from Gamma(shape, 1) by Marsaglia and Tsang's method (2000);
// a shape below 1 is boosted by U^(1/shape).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return gamma(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		var x, v float64
		for v <= 0 {
			x = r.NormFloat64()
			v = 1 + c*x
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
