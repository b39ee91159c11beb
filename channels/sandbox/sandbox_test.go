package sandbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
)

func TestSenderRecordsAndScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    func(s *sandbox.Sender)
		to        []string
		wantErrs  []bool
		wantCodes []string
	}{
		{name: "accepts by default", to: []string{"+1", "+2"}, wantErrs: []bool{false, false}, wantCodes: []string{"", ""}},
		{
			name: "fails an address",
			script: func(s *sandbox.Sender) {
				s.FailAddress("+2", sandbox.Permanent("21610", nudge.ReasonOptedOut, true, false))
			},
			to:        []string{"+1", "+2", "+2"},
			wantErrs:  []bool{false, true, true},
			wantCodes: []string{"", "21610", "21610"},
		},
		{
			name: "clears an address rule",
			script: func(s *sandbox.Sender) {
				s.FailAddress("+2", sandbox.Transient("30003"))
				s.FailAddress("+2", nil)
			},
			to:        []string{"+2"},
			wantErrs:  []bool{false},
			wantCodes: []string{""},
		},
		{
			name:      "fails the next n",
			script:    func(s *sandbox.Sender) { s.FailNext(2, sandbox.Transient("20429")) },
			to:        []string{"+1", "+1", "+1"},
			wantErrs:  []bool{true, true, false},
			wantCodes: []string{"20429", "20429", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := sandbox.New()
			if tt.script != nil {
				tt.script(s)
			}
			for i, to := range tt.to {
				res, err := s.Send(context.Background(), &nudge.Message{AttemptID: "att_1", To: to})
				if !tt.wantErrs[i] {
					require.NoError(t, err)
					require.NotEmpty(t, res.ProviderID)
					continue
				}
				pe, ok := nudge.AsProviderError(err)
				require.True(t, ok)
				require.Equal(t, tt.wantCodes[i], pe.Code)
			}
			require.Equal(t, len(tt.to), s.Count())
			require.Equal(t, len(tt.to), s.CallsFor("att_1"))
			calls := s.Calls()
			require.Len(t, calls, len(tt.to))
			ok := 0
			for i, c := range calls {
				require.Equal(t, tt.to[i], c.Message.To)
				if c.Err == nil {
					ok++
				}
			}
			require.Equal(t, ok, s.Sent())
		})
	}
}

func TestCallsReturnsCopies(t *testing.T) {
	t.Parallel()
	s := sandbox.New()
	_, err := s.Send(context.Background(), &nudge.Message{AttemptID: "a", Headers: map[string]string{"X": "1"}})
	require.NoError(t, err)
	calls := s.Calls()
	calls[0].Message.Headers["X"] = "changed"
	calls[0].Message.AttemptID = "changed"
	require.Equal(t, "1", s.Calls()[0].Message.Headers["X"])
	require.Equal(t, 1, s.CallsFor("a"))
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	s := sandbox.New()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := s.Send(context.Background(), &nudge.Message{AttemptID: fmt.Sprintf("att_%d", i%5)})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 50, s.Count())
	require.Equal(t, 10, s.CallsFor("att_3"))
	ids := map[string]bool{}
	for _, c := range s.Calls() {
		require.False(t, ids[c.ProviderID], "duplicate provider id %s", c.ProviderID)
		ids[c.ProviderID] = true
	}
}

func TestCanceledContextIsRecorded(t *testing.T) {
	t.Parallel()
	s := sandbox.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, &nudge.Message{AttemptID: "a"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, s.Count())
	require.Equal(t, 0, s.Sent())
}
