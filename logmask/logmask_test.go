package logmask_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/logmask"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "E.164", in: "+12125550123", want: "+1********23"},
		{name: "E.164 in a sentence", in: "sent to +12125550123.", want: "sent to +1********23."},
		{name: "China mobile", in: "to +8613800138000 now", want: "to +86*********00 now"},
		{name: "international with spaces", in: "call +1 212 555 0123", want: "call +1********23"},
		{name: "national formatted", in: "call (212) 555-0123 today", want: "call (***) ***-**23 today"},
		{name: "national dashed", in: "212-555-0123", want: "***-***-**23"},
		{name: "bare national", in: "from=2125550123", want: "from=********23"},
		{name: "email", in: "mail ana.diaz@example.com failed", want: "mail a***@example.com failed"},
		{name: "email with plus", in: "<Ana+loans@mail.example.co.uk>", want: "<A***@mail.example.co.uk>"},
		{name: "two numbers", in: "+12125550123,+13105550100", want: "+1********23,+1********00"},
		{name: "date then number", in: "2026-06-01 2125550123", want: "2026-06-01 ********23"},
		{name: "date kept", in: "due 2026-06-01 at 15:00", want: "due 2026-06-01 at 15:00"},
		{name: "amount kept", in: "amount 412.50 USD", want: "amount 412.50 USD"},
		{name: "short count kept", in: "canceled 3 of 1500 reminders", want: "canceled 3 of 1500 reminders"},
		{name: "ip kept", in: "redis at 192.168.100.200:6379", want: "redis at 192.168.100.200:6379"},
		{name: "id kept", in: "rem_ab1234567890cd and att_9876543210", want: "rem_ab1234567890cd and att_9876543210"},
		{name: "hash kept", in: "hash 3f2a9b1234567890abcdef", want: "hash 3f2a9b1234567890abcdef"},
		{name: "sixteen digits kept", in: "at 1780000000000000", want: "at 1780000000000000"},
		{name: "already masked", in: "+1********23", want: "+1********23"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, logmask.String(tt.in))
		})
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type payload struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

type clean struct {
	Count int `json:"count"`
}

func TestHandlerMasksRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		log   func(l *slog.Logger)
		want  map[string]any
		never []string
	}{
		{name: "message and string attr",
			log:  func(l *slog.Logger) { l.Info("reply from +12125550123", "address", "ana@example.com") },
			want: map[string]any{"msg": "reply from +1********23", "address": "a***@example.com"}},
		{name: "error",
			log:  func(l *slog.Logger) { l.Error("send failed", "err", errors.New("21610: +12125550123 opted out")) },
			want: map[string]any{"err": "21610: +1********23 opted out"}},
		{name: "stringer and bytes",
			log: func(l *slog.Logger) {
				l.Info("x", "s", stringer{"to ana@example.com"}, "raw", json.RawMessage(`{"from":"+12125550123"}`))
			},
			want: map[string]any{"s": "to a***@example.com", "raw": `{"from":"+1********23"}`}},
		{name: "group",
			log:  func(l *slog.Logger) { l.Info("x", slog.Group("call", "to", "+8613800138000", "tries", 2)) },
			want: map[string]any{"call": map[string]any{"to": "+86*********00", "tries": float64(2)}}},
		{name: "struct with an address",
			log:   func(l *slog.Logger) { l.Info("x", "payload", payload{To: "+12125550123", Body: "STOP"}) },
			never: []string{"5550123"}},
		{name: "struct without one is kept",
			log:  func(l *slog.Logger) { l.Info("x", "stats", clean{Count: 42}) },
			want: map[string]any{"stats": map[string]any{"count": float64(42)}}},
		{name: "with attrs",
			log: func(l *slog.Logger) {
				l.With("from", "+12125550123").WithGroup("g").Info("x", "email", "bo@example.org")
			},
			want: map[string]any{"from": "+1********23", "g": map[string]any{"email": "b***@example.org"}}},
		{name: "numbers are not strings",
			log:  func(l *slog.Logger) { l.Info("x", "unix", 1780000000, "at", "1780000000") },
			want: map[string]any{"unix": float64(1780000000), "at": "********00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			tt.log(slog.New(logmask.NewHandler(slog.NewJSONHandler(&buf, nil))))
			var got map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &got), buf.String())
			for k, v := range tt.want {
				require.Equal(t, v, got[k], "attribute %s in %s", k, buf.String())
			}
			for _, s := range append(tt.never, "2125550123", "13800138000", "ana@", "bo@") {
				require.NotContains(t, buf.String(), s)
			}
		})
	}
}

func TestHandlerEnabled(t *testing.T) {
	t.Parallel()
	h := logmask.NewHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	require.False(t, h.Enabled(context.Background(), slog.LevelInfo))
	require.True(t, h.Enabled(context.Background(), slog.LevelError))
}
