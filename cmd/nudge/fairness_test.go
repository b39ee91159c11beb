package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestFairnessConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		f       FairnessConfig
		wantErr []string
	}{
		{name: "unset"},
		{name: "set", f: FairnessConfig{Weight: 4, MaxPerSecond: 2.5}},
		{name: "weight below zero", f: FairnessConfig{Weight: -1},
			wantErr: []string{"lenders[2].fairness.weight: -1 must be between 1 and 100"}},
		{name: "weight too high", f: FairnessConfig{Weight: 101},
			wantErr: []string{"lenders[2].fairness.weight: 101 must be between 1 and 100"}},
		{name: "rate below zero and weight", f: FairnessConfig{Weight: -2, MaxPerSecond: -1},
			wantErr: []string{"lenders[2].fairness.weight: -2", "lenders[2].fairness.max_per_second: -1 must be a positive number"}},
		{name: "rate not a number", f: FairnessConfig{MaxPerSecond: math.NaN()},
			wantErr: []string{"lenders[2].fairness.max_per_second: NaN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.f.validate(2)
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			for _, w := range tc.wantErr {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestLoadConfigFairness reads the lenders' fairness and the worker's
// discovery period from YAML, and turns them into the worker's weights and
// the pipeline's rates; a misspelt key is an error naming it.
func TestLoadConfigFairness(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`worker:
  discover_every: 5s
lenders:
  - id: big
    fairness: {weight: 1, max_per_second: 50}
  - id: small
    fairness: {weight: 3}
  - id: plain
`), 0o600))
	cfg, err := LoadConfig(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, cfg.Worker.DiscoverEvery)
	weight, rate, err := lenderFairness(cfg.Lenders)
	require.NoError(t, err)
	require.Equal(t, 1, weight("big"))
	require.Equal(t, 3, weight("small"))
	require.Zero(t, weight("plain"), "unset: the dispatcher's default")
	require.InDelta(t, 50.0, rate("big", nudge.SMS), 0)
	require.Zero(t, rate("small", nudge.SMS), "no cap")
	require.Equal(t, []string{"big", "small", "plain"}, lenderIDs(cfg.Lenders))

	cfg.Lenders[2].Fairness.Weight = 1000
	_, _, err = lenderFairness(cfg.Lenders)
	require.ErrorContains(t, err, "lenders[2].fairness.weight: 1000")

	require.NoError(t, os.WriteFile(path, []byte(`lenders:
  - id: big
    fairness: {weigth: 2}
`), 0o600))
	_, err = LoadConfig(path, func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "weigth")
}
