package smtp_test

import (
	"errors"
	"io"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	type outcome struct {
		retry, undeliverable, senderRefused, maybeAccepted bool
		reason                                             nudge.Reason
	}
	var (
		retry     = outcome{retry: true, reason: nudge.ReasonProviderRetry}
		refused   = outcome{senderRefused: true, reason: nudge.ReasonPaused}
		bounced   = outcome{undeliverable: true, reason: nudge.ReasonUndeliverable}
		failed    = outcome{reason: nudge.ReasonProviderFailed}
		maybe     = outcome{maybeAccepted: true, reason: nudge.ReasonUnknownOutcome}
		eof       = io.EOF
		replyWith = func(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }
	)
	tests := []struct {
		name string
		err  error
		want outcome
		code string
	}{
		{name: "dial refused", err: errors.New("dial tcp: connection refused"), want: retry},
		{name: "bad credentials", err: &smtp.Error{Stage: smtp.StageConnect, Code: 535, Err: replyWith(535, "5.7.8 bad")}, want: retry, code: "535"},
		{name: "4xx to MAIL FROM", err: &smtp.Error{Stage: smtp.StageMail, Code: 421, Err: eof}, want: retry, code: "421"},
		{name: "5xx to MAIL FROM", err: &smtp.Error{Stage: smtp.StageMail, Code: 550, Enhanced: "5.7.1", Err: eof}, want: refused, code: "550"},
		{name: "5xx to MAIL FROM, quota", err: &smtp.Error{Stage: smtp.StageMail, Code: 554, Enhanced: "5.2.2", Err: eof}, want: refused, code: "554"},
		{name: "no reply to MAIL FROM", err: &smtp.Error{Stage: smtp.StageMail, Err: eof}, want: retry},
		{name: "4xx to RCPT", err: &smtp.Error{Stage: smtp.StageRcpt, Code: 450, Err: eof}, want: retry, code: "450"},
		{name: "5xx to RCPT, no such user", err: &smtp.Error{Stage: smtp.StageRcpt, Code: 550, Enhanced: "5.1.1", Err: eof}, want: bounced, code: "550"},
		{name: "5xx to RCPT without an enhanced code", err: &smtp.Error{Stage: smtp.StageRcpt, Code: 550, Err: eof}, want: bounced, code: "550"},
		{name: "5xx to RCPT, policy", err: &smtp.Error{Stage: smtp.StageRcpt, Code: 554, Enhanced: "5.7.1", Err: eof}, want: failed, code: "554"},
		{name: "no reply to RCPT", err: &smtp.Error{Stage: smtp.StageRcpt, Err: eof}, want: retry},
		{name: "5xx to DATA", err: &smtp.Error{Stage: smtp.StageData, Code: 554, Err: eof}, want: failed, code: "554"},
		{name: "no reply to DATA", err: &smtp.Error{Stage: smtp.StageData, Err: eof}, want: retry},
		{name: "write failed before the dot", err: &smtp.Error{Stage: smtp.StageMessage, Err: errors.New("broken pipe")}, want: retry},
		{name: "4xx after the dot", err: &smtp.Error{Stage: smtp.StageReply, Code: 451, Err: eof}, want: retry, code: "451"},
		{name: "5xx after the dot", err: &smtp.Error{Stage: smtp.StageReply, Code: 554, Enhanced: "5.7.1", Err: eof}, want: failed, code: "554"},
		{name: "5xx after the dot, mailbox full", err: &smtp.Error{Stage: smtp.StageReply, Code: 552, Enhanced: "5.2.2", Err: eof}, want: bounced, code: "552"},
		{name: "5xx after the dot without an enhanced code", err: &smtp.Error{Stage: smtp.StageReply, Code: 550, Err: eof}, want: failed, code: "550"},
		{name: "EOF after the dot", err: &smtp.Error{Stage: smtp.StageReply, Err: eof}, want: maybe},
		{name: "unexpected reply after the dot", err: &smtp.Error{Stage: smtp.StageReply, Code: 354, Err: eof}, want: maybe, code: "354"},
		{name: "wrapped", err: errors.Join(errors.New("context"), &smtp.Error{Stage: smtp.StageReply, Err: eof}), want: maybe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pe := smtp.Classify(tt.err)
			got := outcome{retry: pe.Retry, undeliverable: pe.Undeliverable, senderRefused: pe.SenderRefused,
				maybeAccepted: pe.MaybeAccepted, reason: pe.Reason}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.code, pe.Code)
			require.ErrorIs(t, pe, tt.err)
		})
	}
}
