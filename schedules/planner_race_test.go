//go:build race

package schedules_test

// portfolioSize is smaller under the race detector, which slows the pure-Go
// SQLite engine about twentyfold; the property checked does not depend on it.
const portfolioSize = 20_000
