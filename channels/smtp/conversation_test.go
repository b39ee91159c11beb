package smtp_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
)

func attemptMessage(attemptID string) *nudge.Message {
	m := plainMessage("ana@example.com")
	m.AttemptID = attemptID
	return m
}

func TestSendDroppedAfterTheDotIsMaybeAccepted(t *testing.T) {
	t.Parallel()
	for _, reused := range []bool{false, true} {
		name := "fresh connection"
		if reused {
			name = "reused connection"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{}, nil)
			if reused {
				_, err := b.sender.Send(t.Context(), plainMessage("first@example.com"))
				require.NoError(t, err)
			}
			before := b.sink.Count()
			id := smtp.MessageID("acme.example", "att-1")
			b.sink.FaultNext(smtpsink.FaultDropAfterData, 1)

			res, err := b.sender.Send(t.Context(), attemptMessage("att-1"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "error %v", err)
			require.True(t, pe.MaybeAccepted, "the reply to the dot was lost: %v", err)
			require.False(t, pe.Retry, "never resent blind")
			require.False(t, pe.Undeliverable)
			require.Equal(t, nudge.ReasonUnknownOutcome, pe.Reason)
			require.Empty(t, pe.Code)
			require.Equal(t, id, res.ProviderID, "the Message-ID the server may hold")
			require.Equal(t, 1, b.sink.Injected(smtpsink.FaultDropAfterData))
			require.Equal(t, before+1, b.sink.Count(), "not redialed and resent after the dot")
			require.Equal(t, 1, b.sink.MessageIDs()[id])

			// Reconciliation decides to resend the same attempt: the receiver
			// sees two copies under one Message-ID and can drop one.
			again, err := b.sender.Send(t.Context(), attemptMessage("att-1"))
			require.NoError(t, err)
			require.Equal(t, id, again.ProviderID)
			require.Equal(t, 2, b.sink.MessageIDs()[id])
			require.Equal(t, before+2, b.sink.Count())
			require.Equal(t, 2, b.sink.Sessions(), "the dropped connection is redialed")
		})
	}
}

func TestSendOutageIsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reused   bool
		injected int
	}{
		{name: "new connection refused", injected: 1},
		// 421 to MAIL FROM: the connection is redialed once, and refused.
		{name: "open connection answered 421", reused: true, injected: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, smtpsink.Options{}, nil)
			if tt.reused {
				_, err := b.sender.Send(t.Context(), plainMessage("first@example.com"))
				require.NoError(t, err)
			}
			before := b.sink.Count()
			b.sink.SetFault(smtpsink.FaultOutage, true)
			_, err := b.sender.Send(t.Context(), attemptMessage("att-1"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "error %v", err)
			require.True(t, pe.Retry, "error %v", err)
			require.False(t, pe.MaybeAccepted)
			require.False(t, pe.SenderRefused)
			require.Equal(t, "421", pe.Code)
			require.Equal(t, nudge.ReasonProviderRetry, pe.Reason)
			require.Equal(t, tt.injected, b.sink.Injected(smtpsink.FaultOutage))
			require.Equal(t, before, b.sink.Count())

			b.sink.SetFault(smtpsink.FaultOutage, false)
			_, err = b.sender.Send(t.Context(), attemptMessage("att-1"))
			require.NoError(t, err)
			require.Equal(t, 1, b.sink.MessageIDs()[smtp.MessageID("acme.example", "att-1")])
		})
	}
}

func TestSendRedialsWhenAnIdleConnectionIsClosedWith421(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil)
	_, err := b.sender.Send(t.Context(), plainMessage("first@example.com"))
	require.NoError(t, err)
	b.sink.FaultNext(smtpsink.FaultOutage, 1) // 421 to the next MAIL FROM only
	_, err = b.sender.Send(t.Context(), attemptMessage("att-1"))
	require.NoError(t, err)
	require.Equal(t, 2, b.sink.Sessions())
	require.Equal(t, 2, b.sink.Count())
}

// rawServer is a hand-written SMTP server for failures go-smtp cannot
// produce. It answers like a willing server, except at step ("MAIL",
// "RCPT", "DATA", or "DOT" for the end of the message), where it sends
// reply, or hangs up when reply is "", or waits for the client to give up
// when reply is "silent".
func rawServer(t *testing.T, step, reply string) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { converse(c, step, reply) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func converse(c net.Conn, step, reply string) {
	defer func() { _ = c.Close() }()
	r := bufio.NewReader(c)
	say := func(s string) bool {
		_, err := io.WriteString(c, s+"\r\n")
		return err == nil
	}
	// at answers the scripted step: false ends the conversation.
	at := func() bool {
		switch reply {
		case "":
			return false
		case "silent":
			_, _ = io.Copy(io.Discard, r)
			return false
		}
		return say(reply)
	}
	if !say("220 raw.test ESMTP") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		var ok bool
		switch verb {
		case "EHLO":
			ok = say("250-raw.test\r\n250 ENHANCEDSTATUSCODES")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		case step:
			ok = at()
		case "DATA":
			if ok = say("354 go ahead"); !ok {
				break
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			if step == "DOT" {
				ok = at()
			} else {
				ok = say("250 2.0.0 queued")
			}
		default:
			ok = say("250 2.0.0 ok")
		}
		if !ok {
			return
		}
	}
}

func TestSendClassifiesByStage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		step, reply   string
		retry         bool
		maybeAccepted bool
		undeliverable bool
		code          string
		reason        nudge.Reason
		stage         smtp.Stage
	}{
		{name: "hang-up at MAIL FROM", step: "MAIL", retry: true, reason: nudge.ReasonProviderRetry, stage: smtp.StageMail},
		{name: "hang-up at RCPT TO", step: "RCPT", retry: true, reason: nudge.ReasonProviderRetry, stage: smtp.StageRcpt},
		{name: "hang-up at DATA", step: "DATA", retry: true, reason: nudge.ReasonProviderRetry, stage: smtp.StageData},
		{name: "5xx to DATA", step: "DATA", reply: "554 5.7.1 not from you", code: "554", reason: nudge.ReasonProviderFailed, stage: smtp.StageData},
		{name: "5xx after the dot without an enhanced code", step: "DOT", reply: "550 rejected", code: "550", reason: nudge.ReasonProviderFailed, stage: smtp.StageReply},
		{name: "hang-up after the dot", step: "DOT", maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, stage: smtp.StageReply},
		{name: "timeout after the dot", step: "DOT", reply: "silent", maybeAccepted: true, reason: nudge.ReasonUnknownOutcome, stage: smtp.StageReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host, port := rawServer(t, tt.step, tt.reply)
			s, err := smtp.New(smtp.Config{Host: host, Port: port, From: testFrom, TLS: smtp.TLSNone, Timeout: 500 * time.Millisecond})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			_, err = s.Send(t.Context(), attemptMessage("att-1"))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "error %v", err)
			require.Equal(t, tt.retry, pe.Retry, "retry: %v", err)
			require.Equal(t, tt.maybeAccepted, pe.MaybeAccepted, "maybe accepted: %v", err)
			require.Equal(t, tt.undeliverable, pe.Undeliverable, "undeliverable: %v", err)
			require.False(t, pe.SenderRefused)
			require.Equal(t, tt.code, pe.Code)
			require.Equal(t, tt.reason, pe.Reason)
			var se *smtp.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.stage, se.Stage)
		})
	}
}
