package compliance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/nudgehq/nudge"
)

// HistoryLine is one line of an attempt-history file (NDJSON), as read by
// ReadHistory and `nudge explain --history`. Channel, status and at are required.
type HistoryLine struct {
	ID      string              `json:"id,omitempty"`
	Channel nudge.ChannelKind   `json:"channel"`
	Status  nudge.AttemptStatus `json:"status"`
	// At is when the attempt was made (RFC 3339).
	At      time.Time `json:"at"`
	Address string    `json:"address,omitempty"`
	// AnsweredBy is the answering-machine verdict of a call (human, machine_start, …).
	AnsweredBy string `json:"answered_by,omitempty"`
	// Conversation marks a call in which the borrower spoke with the bot or an agent.
	Conversation bool `json:"conversation,omitempty"`
}

// ReadHistory reads attempt history as NDJSON, one HistoryLine per line
// (blank lines are skipped), and returns the attempts oldest first. Unknown
// keys and invalid values are errors naming the line number.
func ReadHistory(r io.Reader) ([]nudge.Attempt, error) {
	var out []nudge.Attempt
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("history line %d: %w", n, err)
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			a, perr := parseHistoryLine(trimmed)
			if perr != nil {
				return nil, fmt.Errorf("history line %d: %w", n, perr)
			}
			out = append(out, a)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	slices.SortStableFunc(out, func(x, y nudge.Attempt) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return out, nil
}

func parseHistoryLine(b []byte) (nudge.Attempt, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var h HistoryLine
	if err := dec.Decode(&h); err != nil {
		return nudge.Attempt{}, err
	}
	if dec.More() {
		return nudge.Attempt{}, errors.New("more than one JSON value on the line")
	}
	if !h.Channel.Valid() {
		return nudge.Attempt{}, fmt.Errorf("channel %q (want sms, voice or email)", h.Channel)
	}
	if h.Status.Rank() < 0 {
		return nudge.Attempt{}, fmt.Errorf("unknown status %q", h.Status)
	}
	if h.At.IsZero() {
		return nudge.Attempt{}, errors.New("at is required (an RFC 3339 time)")
	}
	at := h.At.UTC()
	return nudge.Attempt{
		ID: h.ID, Channel: h.Channel, Status: h.Status, Address: h.Address,
		AnsweredBy: h.AnsweredBy, Conversation: h.Conversation,
		CreatedAt: at, SentAt: at, UpdatedAt: at,
	}, nil
}
