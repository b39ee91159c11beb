//go:build !race

package schedules_test

// portfolioSize is how many accounts the tick-cost test loads.
const portfolioSize = 100_000
