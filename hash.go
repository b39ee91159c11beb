package nudge

// Mix64 is SplitMix64's finaliser: it spreads the bits of x, so that hashes
// whose low bits are weak (fnv over short or similar keys) can be taken
// modulo small numbers. Deterministic assignment (experiment arms, sticky
// senders) and the simulator's seeded draws use it.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
