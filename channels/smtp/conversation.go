package smtp

import (
	"io"

	mailsmtp "github.com/wneessen/go-mail/smtp"
)

// transmit runs one mail transaction on conn: MAIL FROM, RCPT TO, DATA, the
// message and its final dot, and the reply to the dot. Every failure is an
// *Error naming the stage it happened at, so that a failure before the dot
// (the message cannot have been accepted) is told apart from a lost reply
// after it (it may have been). Each step gets its own Config.Timeout.
func (s *Sender) transmit(conn *mailsmtp.Client, from, to string, msg io.WriterTo) error {
	step := func(stage Stage, f func() error) error {
		if err := conn.UpdateDeadline(s.cfg.Timeout); err != nil {
			return &Error{Stage: stage, Err: err}
		}
		if err := f(); err != nil {
			return stageError(stage, err)
		}
		return nil
	}
	if err := step(StageMail, func() error { return conn.Mail(from) }); err != nil {
		return err
	}
	if err := step(StageRcpt, func() error { return conn.Rcpt(to) }); err != nil {
		return err
	}
	var w io.WriteCloser
	if err := step(StageData, func() (err error) { w, err = conn.Data(); return err }); err != nil {
		return err
	}
	if err := step(StageMessage, func() error { _, err := msg.WriteTo(w); return err }); err != nil {
		return err
	}
	dc, ok := w.(*mailsmtp.DataCloser)
	if !ok {
		// Close writes the dot and reads the reply without saying which
		// failed: a failure may come after the dot.
		return step(StageReply, w.Close)
	}
	// The dot writer's Close writes the final dot and flushes; only when it
	// succeeds has the dot left. DataCloser.Close would ignore its error and
	// go on to read the reply, so it is done in two steps here.
	if err := step(StageMessage, dc.WriteCloser.Close); err != nil {
		return err
	}
	return step(StageReply, func() error {
		_, _, err := conn.Text.ReadResponse(250)
		return err
	})
}
