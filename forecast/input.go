package forecast

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
)

// MaxLine bounds one line of an NDJSON input.
const MaxLine = 1 << 20

// OptOutLine is one line of an opt-outs file: an address that opted out of
// a lender's channel before the forecast starts.
type OptOutLine struct {
	Lender  string            `json:"lender"`
	Channel nudge.ChannelKind `json:"channel"`
	Address string            `json:"address"`
}

// PromiseLine is one line of a promises file: a pending promise to pay.
type PromiseLine struct {
	Lender    string     `json:"lender"`
	AccountID string     `json:"account_id"`
	Due       nudge.Date `json:"due"`
	// Amount is a decimal string; empty means the amount due.
	Amount string `json:"amount,omitempty"`
}

// lines calls each with every non-blank line of r and its number.
func lines(name string, r io.Reader, each func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxLine)
	n := 0
	var errs []error
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := each(n, line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s:%d: %w", name, n+1, err))
	}
	return errors.Join(errs...)
}

// strict decodes line into v, refusing unknown fields and trailing data.
func strict(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fmt.Errorf("%s: want a %s", ute.Field, ute.Type)
		}
		if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("%s: unknown field", strings.Trim(msg, `"`))
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// ParseOptOuts reads an NDJSON file of OptOutLine; every problem names the
// file, line and field. The addresses are normalised as account contacts
// are.
func ParseOptOuts(name string, r io.Reader) ([]nudge.OptOut, error) {
	var out []nudge.OptOut
	err := lines(name, r, func(_ int, line []byte) error {
		var o OptOutLine
		if err := strict(line, &o); err != nil {
			return err
		}
		switch {
		case o.Lender == "":
			return errors.New("lender: required")
		case o.Address == "":
			return errors.New("address: required")
		}
		addr := strings.TrimSpace(o.Address)
		switch o.Channel {
		case nudge.SMS, nudge.Voice:
			n, err := account.NormalizePhone(addr, "")
			if err != nil {
				return fmt.Errorf("address: %w", err)
			}
			addr = n
		case nudge.Email:
			addr = strings.ToLower(addr)
		default:
			return fmt.Errorf("channel: %q is not sms, voice or email", o.Channel)
		}
		out = append(out, nudge.OptOut{Lender: o.Lender, Channel: o.Channel, Address: addr, Source: "forecast", Reason: "opted out before the forecast"})
		return nil
	})
	return out, err
}

// ParsePromises reads an NDJSON file of PromiseLine; every problem names
// the file, line and field.
func ParsePromises(name string, r io.Reader) ([]PromiseLine, error) {
	var out []PromiseLine
	err := lines(name, r, func(_ int, line []byte) error {
		var p PromiseLine
		if err := strict(line, &p); err != nil {
			return err
		}
		switch {
		case p.Lender == "":
			return errors.New("lender: required")
		case p.AccountID == "":
			return errors.New("account_id: required")
		case p.Due.IsZero():
			return errors.New("due: required (YYYY-MM-DD)")
		}
		out = append(out, p)
		return nil
	})
	return out, err
}
