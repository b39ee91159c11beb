package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExperimentDrillSmall runs the experiment drill's whole path (the
// product in-process, twiliosim's borrower model, the /ops view's
// statistics) on a small portfolio with a large true difference, and
// checks the view against what the simulated provider saw.
func TestExperimentDrillSmall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the whole product")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	const n = 80
	r, err := a.runExperimentDrill(ctx, n, 7, 0.6, experimentBackends{}, &bytes.Buffer{}) // 20% against 80%
	require.NoError(t, err)
	v := r.View
	require.Equal(t, "promise_rate", v.Metric)
	require.Len(t, v.Arms, 2)
	// Every reminder delivered and every promise answered at the provider is
	// one the ledger credits to the same arm.
	require.Empty(t, r.miscounts())
	var sent int64
	for _, arm := range v.Arms {
		iv := arm.Rates["promise_rate"]
		require.LessOrEqual(t, iv.Low, float64(iv.Num)/float64(iv.Den))
		sent += arm.Counts.Sent
	}
	require.Equal(t, int64(n), sent)
	require.Equal(t, "firm", v.Better, "p %g", v.Comparison.Tests[0].P)
	require.Less(t, v.Comparison.Tests[0].P, 0.05)
}
