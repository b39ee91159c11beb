package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// ErasedAddressPrefix starts the placeholder that replaces an erased
// contact's address ("erased-0", "erased-1", … by the contact's position),
// so the account keeps the shape of its contacts (channel, consent, state)
// and no lookup by address finds it again.
const ErasedAddressPrefix = "erased-"

// AuditErasePersonalData is the audit action an erasure records.
const AuditErasePersonalData = "erase_personal_data"

// ActorSystem is the audit actor of an erasure made by Nudge itself.
const ActorSystem = "system"

// personalKeys are the members of an event's Detail that hold personal data
// (an address, a name, or what the borrower wrote or said); an erasure
// removes them, whatever their value, compared without case.
var personalKeys = map[string]bool{
	"address": true, "from": true, "to": true, "body": true, "input": true, "speech": true,
	"name": true, "email": true, "phone": true, "number": true, "caller": true, "called": true,
}

// Erasure counts what an erasure changed; it is the detail of the audit entry.
type Erasure struct {
	Contacts int `json:"contacts"`
	Attempts int `json:"attempts"`
	Replies  int `json:"replies"`
	OptOuts  int `json:"opt_outs"`
	Events   int `json:"events"`
}

// ErasePersonalData erases the borrower's personal data from the lender's
// account, recording the erasure in the audit log as ActorSystem. See
// ErasePersonalDataBy.
func (db *DB) ErasePersonalData(ctx context.Context, lender, accountID string, now time.Time) error {
	_, err := db.ErasePersonalDataBy(ctx, lender, accountID, ActorSystem, now)
	return err
}

// ErasePersonalDataBy erases the borrower's personal data from the lender's
// account in one transaction and appends one audit entry (action
// AuditErasePersonalData, the account id as target, the counts as detail,
// actor as given) that holds no personal data. It blanks the borrower's name,
// time zone and postal address and the reasons of holds; replaces each
// contact's address with a placeholder (ErasedAddressPrefix and its
// position) keeping channel, consent and state; blanks the address of every
// attempt and the sender and text of every reply of the account (and of the
// lender's unmatched replies from its addresses); removes from its events'
// details every member that names an address or carries what the borrower
// wrote or said; and blanks the address and reason of the lender's opt-outs
// of those addresses, keeping their hashes so IsOptedOut still finds them.
// Promises hold no personal data and are kept. The account becomes closed
// with no next action, so nothing more is planned for it. Erasing an account
// twice is harmless. It returns nudge.ErrNotFound when the lender has no such
// account.
func (db *DB) ErasePersonalDataBy(ctx context.Context, lender, accountID, actor string, now time.Time) (Erasure, error) {
	if lender == "" || accountID == "" {
		return Erasure{}, errors.New("erase personal data: lender and account are required")
	}
	if now.IsZero() {
		return Erasure{}, errors.New("erase personal data: now is required")
	}
	var out Erasure
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, `SELECT 1 FROM accounts WHERE lender = ? AND id = ?`+db.forUpdate(), lender, accountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s/%s: %w", lender, accountID, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		e := eraser{db: db, tx: tx, lender: lender, id: accountID, now: now}
		steps := []func(ctx context.Context, out *Erasure) error{
			e.account, e.contacts, e.attempts, e.replies, e.optOuts, e.events,
		}
		for _, step := range steps {
			if err := step(ctx, &out); err != nil {
				return err
			}
		}
		detail, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `INSERT INTO audit_log (lender, actor, action, target, detail, at) VALUES (?, ?, ?, ?, ?, ?)`,
			lender, actor, AuditErasePersonalData, accountID, string(detail), db.tv(now))
		return err
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("erase personal data of %s/%s: %w", lender, accountID, err)
	}
	return out, nil
}

// eraser is one erasure in progress: the addresses it has found so far.
type eraser struct {
	db     *DB
	tx     *sql.Tx
	lender string
	id     string
	now    time.Time
	// addrs are the personal addresses found, normalised, in order.
	addrs []string
	seen  map[string]bool
}

// found remembers a personal address (not a placeholder, not empty).
func (e *eraser) found(channel nudge.ChannelKind, address string) {
	a := NormalizeAddress(channel, address)
	if a == "" || strings.HasPrefix(a, ErasedAddressPrefix) {
		return
	}
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	if !e.seen[a] {
		e.seen[a] = true
		e.addrs = append(e.addrs, a)
	}
}

func (e *eraser) exec(ctx context.Context, what, query string, args ...any) (int, error) {
	res, err := e.db.exec(ctx, e.tx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(n), nil
}

// account blanks the borrower, closes the account and blanks hold reasons.
func (e *eraser) account(ctx context.Context, _ *Erasure) error {
	if _, err := e.exec(ctx, "erase borrower", `UPDATE accounts SET borrower_name = '', borrower_timezone = '',
    address_country = NULL, address_region = NULL, address_postal_code = NULL,
    status = ?, next_action_at = NULL, updated_at = ? WHERE lender = ? AND id = ?`,
		string(nudge.StatusClosed), e.db.tv(e.now), e.lender, e.id); err != nil {
		return err
	}
	_, err := e.exec(ctx, "erase hold reasons", `UPDATE holds SET reason = '' WHERE lender = ? AND account_id = ?`, e.lender, e.id)
	return err
}

// contacts replaces each contact's address with its placeholder.
func (e *eraser) contacts(ctx context.Context, out *Erasure) error {
	rows, err := e.db.query(ctx, e.tx, `SELECT channel, address, position FROM contacts WHERE lender = ? AND account_id = ? ORDER BY position`,
		e.lender, e.id)
	if err != nil {
		return fmt.Errorf("read contacts: %w", err)
	}
	type contact struct {
		channel, address string
		position         int
	}
	var cs []contact
	for rows.Next() {
		var c contact
		if err := rows.Scan(&c.channel, &c.address, &c.position); err != nil {
			rows.Close()
			return fmt.Errorf("read contacts: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("read contacts: %w", err)
	}
	rows.Close()
	for _, c := range cs {
		placeholder := ErasedAddressPrefix + strconv.Itoa(c.position)
		if c.address == placeholder {
			continue
		}
		e.found(nudge.ChannelKind(c.channel), c.address)
		n, err := e.exec(ctx, "erase contact", `UPDATE contacts SET address = ? WHERE lender = ? AND account_id = ? AND channel = ? AND address = ?`,
			placeholder, e.lender, e.id, c.channel, c.address)
		if err != nil {
			return err
		}
		out.Contacts += n
	}
	return nil
}

// attempts blanks the address and the sent text of every attempt of the account.
func (e *eraser) attempts(ctx context.Context, out *Erasure) error {
	if err := e.collect(ctx, "read attempt addresses", `SELECT DISTINCT channel, address FROM attempts
WHERE lender = ? AND account_id = ? AND address <> ''`, e.lender, e.id); err != nil {
		return err
	}
	n, err := e.exec(ctx, "erase attempt addresses", `UPDATE attempts SET address = '', body = ''
WHERE lender = ? AND account_id = ? AND (address <> '' OR body <> '')`,
		e.lender, e.id)
	out.Attempts = n
	return err
}

// replies blanks the sender and text of the account's replies and of the
// lender's unmatched replies from the account's addresses.
func (e *eraser) replies(ctx context.Context, out *Erasure) error {
	if err := e.collect(ctx, "read reply senders", `SELECT DISTINCT channel, from_address FROM replies
WHERE lender = ? AND account_id = ? AND from_address <> ''`, e.lender, e.id); err != nil {
		return err
	}
	n, err := e.exec(ctx, "erase replies", `UPDATE replies SET from_address = '', body = ''
WHERE lender = ? AND account_id = ? AND (from_address <> '' OR body <> '')`, e.lender, e.id)
	if err != nil {
		return err
	}
	out.Replies += n
	if len(e.addrs) == 0 {
		return nil
	}
	args := []any{e.lender}
	for _, a := range e.addrs {
		args = append(args, a)
	}
	n, err = e.exec(ctx, "erase unmatched replies", `UPDATE replies SET from_address = '', body = ''
WHERE lender = ? AND account_id = '' AND from_address IN (`+placeholders(len(e.addrs))+`)`, args...)
	out.Replies += n
	return err
}

// collect adds the (channel, address) rows of query to the found addresses.
func (e *eraser) collect(ctx context.Context, what, query string, args ...any) error {
	rows, err := e.db.query(ctx, e.tx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var channel, address string
		if err := rows.Scan(&channel, &address); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		e.found(nudge.ChannelKind(channel), address)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// optOuts blanks the address and reason of the lender's opt-outs of the
// found addresses on any channel; their hashes stay and keep suppressing.
func (e *eraser) optOuts(ctx context.Context, out *Erasure) error {
	for _, a := range e.addrs {
		for _, ch := range nudge.Channels {
			n, err := e.exec(ctx, "erase opt-out address", `UPDATE opt_outs SET address = '', reason = ''
WHERE lender = ? AND channel = ? AND address_hash = ? AND (address <> '' OR reason <> '')`,
				e.lender, string(ch), AddressHash(ch, a))
			if err != nil {
				return err
			}
			out.OptOuts += n
		}
	}
	return nil
}

// events removes personal members from the details of the account's events.
func (e *eraser) events(ctx context.Context, out *Erasure) error {
	rows, err := e.db.query(ctx, e.tx, `SELECT id, detail FROM events WHERE lender = ? AND account_id = ? AND detail IS NOT NULL`,
		e.lender, e.id)
	if err != nil {
		return fmt.Errorf("read event details: %w", err)
	}
	type change struct {
		id     int64
		detail string
	}
	var changes []change
	for rows.Next() {
		var (
			id     int64
			detail string
		)
		if err := rows.Scan(&id, &detail); err != nil {
			rows.Close()
			return fmt.Errorf("read event details: %w", err)
		}
		if scrubbed, changed := ScrubDetail([]byte(detail), e.addrs); changed {
			changes = append(changes, change{id, string(scrubbed)})
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("read event details: %w", err)
	}
	rows.Close()
	for _, c := range changes {
		if _, err := e.exec(ctx, "erase event detail", `UPDATE events SET detail = ? WHERE id = ?`, c.detail, c.id); err != nil {
			return err
		}
	}
	out.Events = len(changes)
	return nil
}

// ScrubDetail removes from the JSON document detail every object member
// named like personal data (address, from, to, body, input, speech, name,
// email, phone, number, caller, called; any case) and every member or array
// element whose text contains one of addresses (normalised as
// NormalizeAddress does; phone numbers are also found by their digits). It
// returns the document and whether it changed; a document that is not JSON
// becomes null.
func ScrubDetail(detail []byte, addresses []string) ([]byte, bool) {
	var v any
	if err := json.Unmarshal(detail, &v); err != nil {
		return []byte("null"), true
	}
	needles := make([]string, 0, 2*len(addresses))
	for _, a := range addresses {
		needles = append(needles, strings.ToLower(a))
		if d := digitsOf(a); len(d) >= 7 {
			needles = append(needles, d)
		}
	}
	scrubbed, changed := scrub(v, needles)
	if !changed {
		return detail, false
	}
	b, err := json.Marshal(scrubbed)
	if err != nil {
		return []byte("null"), true
	}
	return b, true
}

// scrub removes personal members and matching values from v.
func scrub(v any, needles []string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		changed := false
		for k, x := range t {
			if personalKeys[strings.ToLower(k)] || mentions(x, needles) {
				delete(t, k)
				changed = true
				continue
			}
			if y, c := scrub(x, needles); c {
				t[k], changed = y, true
			}
		}
		return t, changed
	case []any:
		kept := t[:0]
		changed := false
		for _, x := range t {
			if mentions(x, needles) {
				changed = true
				continue
			}
			y, c := scrub(x, needles)
			changed = changed || c
			kept = append(kept, y)
		}
		return kept, changed
	}
	return v, false
}

// mentions reports whether v is a string that contains one of needles.
func mentions(v any, needles []string) bool {
	s, ok := v.(string)
	if !ok || s == "" {
		return false
	}
	low, digits := strings.ToLower(s), digitsOf(s)
	for _, n := range needles {
		if strings.Contains(low, n) || isDigitString(n) && strings.Contains(digits, n) {
			return true
		}
	}
	return false
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isDigitString(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
