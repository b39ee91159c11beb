package smtpsink_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/smtpsink"
)

func start(t *testing.T, opts smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	s, err := smtpsink.Start("127.0.0.1:0", opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func dial(t *testing.T, s *smtpsink.Sink) *gosmtp.Client {
	t.Helper()
	c, err := gosmtp.Dial(s.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func body(to string) string {
	return "From: a@acme.example\r\nTo: " + to + "\r\nSubject: hi\r\n\r\nhello\r\n"
}

// smtpCode is the reply code of err, or 0.
func smtpCode(err error) int {
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestSinkReceivesAndWritesEML(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	c := dial(t, s)
	for _, to := range []string{"ana@example.com", "bo+x@example.com"} {
		require.NoError(t, c.SendMail("a@acme.example", []string{to}, strings.NewReader(body(to))))
	}
	require.NoError(t, c.Quit())
	require.Equal(t, 2, s.Count())
	require.Equal(t, 1, s.Sessions())
	msgs := s.Messages()
	require.Equal(t, "a@acme.example", msgs[0].From)
	require.Equal(t, []string{"ana@example.com"}, msgs[0].To)
	require.Equal(t, body("ana@example.com"), string(msgs[0].Data))
	require.Equal(t, 1, msgs[1].Session)

	dir := filepath.Join(t.TempDir(), "mail")
	n, err := s.WriteEML(dir)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	require.NoError(t, err)
	require.Equal(t, []string{
		filepath.Join(dir, "00001-ana_example.com.eml"),
		filepath.Join(dir, "00002-bo_x_example.com.eml"),
	}, files)
	data, err := os.ReadFile(files[1])
	require.NoError(t, err)
	require.Equal(t, body("bo+x@example.com"), string(data))
}

func TestSinkScriptedReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script func(s *smtpsink.Sink)
		code   int
	}{
		{name: "rcpt 4xx", script: func(s *smtpsink.Sink) { s.FailNext(1, 451, "later") }, code: 451},
		{name: "rcpt 5xx", script: func(s *smtpsink.Sink) { s.FailNext(1, 550, "") }, code: 550},
		{name: "mail 5xx", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandMail, 1, 553, "no") }, code: 553},
		{name: "data 5xx", script: func(s *smtpsink.Sink) { s.FailNextAt(smtpsink.CommandData, 1, 554, "spam") }, code: 554},
		{name: "rejected address", script: func(s *smtpsink.Sink) { s.Reject("ANA@example.com", 550) }, code: 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, smtpsink.Options{})
			tt.script(s)
			c := dial(t, s)
			err := c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("ana@example.com")))
			require.Equal(t, tt.code, smtpCode(err), "error %v", err)
			require.NoError(t, c.Reset())
			require.Zero(t, s.Count())
			// Scripted failures are used up; rejections stay until Accept.
			err = c.SendMail("a@acme.example", []string{"bob@example.com"}, strings.NewReader(body("bob@example.com")))
			require.NoError(t, err)
			require.Equal(t, 1, s.Count())
		})
	}
}

func TestSinkRejectUntilAccept(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	s.Reject("ana@example.com", 550)
	c := dial(t, s)
	for range 2 {
		err := c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x")))
		require.Equal(t, 550, smtpCode(err))
		require.NoError(t, c.Reset())
	}
	s.Accept("ana@example.com")
	require.NoError(t, c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x"))))
	require.Equal(t, 1, s.Count())
}

func TestSinkFailNextCountsDown(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	s.FailNext(2, 421, "busy")
	c := dial(t, s)
	var codes []int
	for range 3 {
		codes = append(codes, smtpCode(c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x")))))
		require.NoError(t, c.Reset())
	}
	require.Equal(t, []int{421, 421, 0}, codes)
}

func TestSinkAuth(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{Username: "nudge", Password: "pw"})
	tests := []struct {
		name     string
		auth     sasl.Client
		wantCode int
	}{
		{name: "no auth", wantCode: 502},
		{name: "wrong password", auth: sasl.NewPlainClient("", "nudge", "nope"), wantCode: 535},
		{name: "plain over a plain connection", auth: sasl.NewPlainClient("", "nudge", "pw")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s)
			var err error
			if tt.auth != nil {
				err = c.Auth(tt.auth)
			}
			if err == nil {
				err = c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x")))
			}
			require.Equal(t, tt.wantCode, smtpCode(err), "error %v", err)
		})
	}
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "nudge", msgs[0].Username)
}

func TestSinkDisconnectAndClose(t *testing.T) {
	t.Parallel()
	s, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	c := dial(t, s)
	require.NoError(t, c.Noop())
	s.Disconnect()
	require.Error(t, c.Noop())
	c2 := dial(t, s)
	require.NoError(t, c2.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x"))))
	require.Equal(t, 2, s.Sessions())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	require.Equal(t, 1, s.Count(), "messages outlive the server")
	_, err = gosmtp.Dial(s.Addr())
	require.Error(t, err)
}

func TestSinkImplicitTLSNeedsConfig(t *testing.T) {
	t.Parallel()
	_, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{ImplicitTLS: true})
	require.ErrorContains(t, err, "TLS configuration")
}

func bodyWithID(to, id string) string {
	return "From: a@acme.example\r\nTo: " + to + "\r\nMessage-ID: " + id + "\r\nSubject: hi\r\n\r\nhello\r\n"
}

func TestSinkFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  smtpsink.Fault
		code   int // reply to the send; 0 for a dropped connection
		stored int
	}{
		{name: "sender rejected at MAIL FROM", fault: smtpsink.FaultRejectSender, code: 550},
		{name: "temporary failure at RCPT TO", fault: smtpsink.FaultTempFailRcpt, code: 451},
		{name: "temporary failure after the message", fault: smtpsink.FaultTempFailData, code: 451},
		{name: "outage on an open connection", fault: smtpsink.FaultOutage, code: 421},
		{name: "dropped after the final dot", fault: smtpsink.FaultDropAfterData, stored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, smtpsink.Options{})
			c := dial(t, s)
			require.NoError(t, c.Noop(), "connect before the fault")
			s.SetFault(tt.fault, true)
			err := c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(bodyWithID("ana@example.com", "<m1@acme.example>")))
			require.Error(t, err)
			require.Equal(t, tt.code, smtpCode(err), "error %v", err)
			require.Equal(t, tt.stored, s.Count())
			require.Equal(t, 1, s.Injected(tt.fault))
			if tt.stored > 0 {
				require.Equal(t, map[string]int{"<m1@acme.example>": 1}, s.MessageIDs())
				require.Error(t, c.Noop(), "the connection was closed")
			}

			s.SetFault(tt.fault, false)
			c2 := dial(t, s)
			require.NoError(t, c2.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(bodyWithID("ana@example.com", "<m1@acme.example>"))))
			require.Equal(t, tt.stored+1, s.Count())
			require.Equal(t, 1, s.Injected(tt.fault), "a fault turned off is not applied")
		})
	}
}

func TestSinkOutageRefusesNewConnections(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	s.SetFault(smtpsink.FaultOutage, true)
	for range 2 {
		c, err := gosmtp.Dial(s.Addr())
		if err == nil {
			err = c.Hello("client.example")
			_ = c.Close()
		}
		require.Equal(t, 421, smtpCode(err), "error %v", err)
	}
	require.Equal(t, 2, s.Injected(smtpsink.FaultOutage))
	require.Zero(t, s.Sessions(), "refused connections are not sessions")

	s.SetFault(smtpsink.FaultOutage, false)
	c := dial(t, s)
	require.NoError(t, c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("ana@example.com"))))
	require.Equal(t, 1, s.Count())
	require.Equal(t, 1, s.Sessions())
}

func TestSinkFaultNextCountsDown(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	s.FaultNext(smtpsink.FaultTempFailRcpt, 2)
	c := dial(t, s)
	var codes []int
	for range 3 {
		codes = append(codes, smtpCode(c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x")))))
		require.NoError(t, c.Reset())
	}
	require.Equal(t, []int{451, 451, 0}, codes)
	require.Equal(t, 2, s.Injected(smtpsink.FaultTempFailRcpt))

	s.FaultNext(smtpsink.FaultRejectSender, 5)
	s.FaultNext(smtpsink.FaultRejectSender, 0)
	require.NoError(t, c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("x"))))
	require.Zero(t, s.Injected(smtpsink.FaultRejectSender))
}

func TestSinkMessageIDs(t *testing.T) {
	t.Parallel()
	s := start(t, smtpsink.Options{})
	c := dial(t, s)
	for _, id := range []string{"<a@acme.example>", "<a@acme.example>", "<b@acme.example>"} {
		require.NoError(t, c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(bodyWithID("ana@example.com", id))))
	}
	require.NoError(t, c.SendMail("a@acme.example", []string{"ana@example.com"}, strings.NewReader(body("ana@example.com"))))
	require.Equal(t, map[string]int{"<a@acme.example>": 2, "<b@acme.example>": 1, "": 1}, s.MessageIDs())
	require.Equal(t, "<b@acme.example>", s.Messages()[2].MessageID)
}
