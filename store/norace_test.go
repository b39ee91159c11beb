//go:build !race

package store_test

// portfolioSize is how many accounts the due-accounts scale test loads.
const portfolioSize = 100_000
