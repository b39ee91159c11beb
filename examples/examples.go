// Package examples embeds the example cadences shipped with Nudge, so that
// `nudge demo` runs from the binary alone.
package examples

import "embed"

// FS holds the example cadence files (us-auto.yaml, cn-auto.yaml).
//
//go:embed *.yaml
var FS embed.FS
