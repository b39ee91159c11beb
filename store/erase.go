package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nudgehq/nudge"
)

// ErasedAddressPrefix starts the placeholder that replaces an erased
// contact's address ("erased-0", "erased-1", … by the contact's position),
// so the account keeps the shape of its contacts (channel, consent, state)
// and no lookup by address finds it again.
const ErasedAddressPrefix = "erased-"

// ErasedTarget replaces an audit entry's target that named an erased
// address.
const ErasedTarget = "erased"

// AuditErasePersonalData is the audit action an erasure records.
const AuditErasePersonalData = "erase_personal_data"

// ActorSystem is the audit actor of an erasure made by Nudge itself.
const ActorSystem = "system"

// minNameNeedle is the shortest borrower name an erasure looks for in
// records that do not name the account (shorter ones match too much).
const minNameNeedle = 4

// personalKeys are the members of an event's or audit entry's detail that
// hold personal data (an address, a name, or what the borrower wrote or
// said) or free text someone typed about the borrower (a reason, a note);
// an erasure removes them, whatever their value, compared without case.
var personalKeys = map[string]bool{
	"address": true, "from": true, "to": true, "body": true, "input": true, "speech": true,
	"name": true, "email": true, "phone": true, "number": true, "caller": true, "called": true,
	"reason": true, "note": true, "notes": true, "comment": true, "comments": true, "memo": true,
	"description": true, "message": true, "text": true,
}

// Erasure counts what an erasure changed; it is the detail of the audit entry.
type Erasure struct {
	Contacts int `json:"contacts"`
	Holds    int `json:"holds"`
	Attempts int `json:"attempts"`
	Replies  int `json:"replies"`
	OptOuts  int `json:"opt_outs"`
	Events   int `json:"events"`
	Audit    int `json:"audit"`
	Links    int `json:"links"`
	// EarlyCallbacks counts provider callbacks kept for the account's
	// attempts and deleted.
	EarlyCallbacks int `json:"early_callbacks"`
	// WorkItems counts work items whose contact, instructions and notes were erased.
	WorkItems int `json:"work_items,omitempty"`
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
// actor as given) that holds no personal data. It:
//
//   - blanks the borrower's name, time zone and postal address and the
//     reasons of holds, and closes the account with no next action;
//   - replaces each contact's address with a placeholder (ErasedAddressPrefix
//     and its position), keeping channel, consent and state;
//   - blanks the address and sent text of every attempt, and deletes the
//     provider callbacks kept for them;
//   - blanks the sender, text and resolution note of the account's replies
//     and of the lender's unmatched replies from or naming its addresses;
//   - re-keys, then blanks the address and reason of, the lender's opt-outs
//     of those addresses: their keyed hashes stay, so they still suppress;
//   - scrubs the account's events and audit entries, and the lender's events
//     and audit entries that name no account but mention an address, its
//     hash or the borrower's name: members holding personal data or free
//     text (personalKeys) and values mentioning the borrower are removed,
//     plain address hashes become keyed, a target naming an address becomes
//     ErasedTarget;
//   - deletes the account's link tokens, so its links stop working.
//
// Promises (plan instalments among them) and payments (an amount, a currency
// and the lender's payment id) hold no personal data and are kept. Erasing an account twice is
// harmless. It returns nudge.ErrNotFound when the lender has no such
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
		var name string
		err := db.queryRow(ctx, tx, `SELECT borrower_name FROM accounts WHERE lender = ? AND id = ?`+db.forUpdate(), lender, accountID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s/%s: %w", lender, accountID, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		e := eraser{db: db, tx: tx, lender: lender, id: accountID, now: now, name: strings.TrimSpace(name)}
		steps := []func(ctx context.Context, out *Erasure) error{
			e.account, e.contacts, e.attempts, e.replies, e.optOuts, e.events, e.audit, e.links, e.workItems,
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
		return db.insertAudit(ctx, tx, nudge.AuditEntry{Lender: lender, Actor: actor, Action: AuditErasePersonalData,
			Target: accountID, Detail: string(detail), At: now})
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
	name   string
	// addrs are the personal addresses found, normalised, in order.
	addrs []string
	seen  map[string]bool
	// providerIDs are the provider ids of the account's attempts.
	providerIDs []string
	// replyTargets are the audit targets ("reply:<id>") of the lender's
	// unmatched replies from or naming the borrower.
	replyTargets []string
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
func (e *eraser) account(ctx context.Context, out *Erasure) error {
	if _, err := e.exec(ctx, "erase borrower", `UPDATE accounts SET borrower_name = '', borrower_timezone = '',
    address_country = NULL, address_region = NULL, address_postal_code = NULL,
    status = ?, next_action_at = NULL, updated_at = ? WHERE lender = ? AND id = ?`,
		string(nudge.StatusClosed), e.db.tv(e.now), e.lender, e.id); err != nil {
		return err
	}
	n, err := e.exec(ctx, "erase hold reasons", `UPDATE holds SET reason = '' WHERE lender = ? AND account_id = ? AND reason <> ''`, e.lender, e.id)
	out.Holds = n
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

// attempts blanks the address and the sent text of every attempt of the
// account and deletes the provider callbacks kept for them.
func (e *eraser) attempts(ctx context.Context, out *Erasure) error {
	if err := e.collect(ctx, "read attempt addresses", `SELECT DISTINCT channel, address FROM attempts
WHERE lender = ? AND account_id = ? AND address <> ''`, e.lender, e.id); err != nil {
		return err
	}
	n, err := e.exec(ctx, "erase attempt addresses", `UPDATE attempts SET address = '', body = ''
WHERE lender = ? AND account_id = ? AND (address <> '' OR body <> '')`,
		e.lender, e.id)
	if err != nil {
		return err
	}
	out.Attempts = n
	rows, err := e.db.query(ctx, e.tx, `SELECT DISTINCT provider_id FROM attempts WHERE lender = ? AND account_id = ? AND provider_id <> ''`,
		e.lender, e.id)
	if err != nil {
		return fmt.Errorf("read provider ids: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("read provider ids: %w", err)
		}
		e.providerIDs = append(e.providerIDs, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read provider ids: %w", err)
	}
	for ids := e.providerIDs; len(ids) > 0; {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		n, err := e.exec(ctx, "erase early callbacks", `DELETE FROM early_callbacks WHERE provider_id IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		out.EarlyCallbacks += n
	}
	return nil
}

// replies blanks the sender and text of the account's replies and of the
// lender's unmatched replies from the account's addresses or naming them.
func (e *eraser) replies(ctx context.Context, out *Erasure) error {
	if err := e.collect(ctx, "read reply senders", `SELECT DISTINCT channel, from_address FROM replies
WHERE lender = ? AND account_id = ? AND from_address <> ''`, e.lender, e.id); err != nil {
		return err
	}
	n, err := e.exec(ctx, "erase replies", `UPDATE replies SET from_address = '', body = '', resolution = ''
WHERE lender = ? AND account_id = ? AND (from_address <> '' OR body <> '' OR resolution <> '')`, e.lender, e.id)
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
	var likes []string
	for _, a := range e.addrs {
		likes = append(likes, `LOWER(body) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(a)+"%")
	}
	unmatched := `lender = ? AND account_id = '' AND (from_address IN (` + placeholders(len(e.addrs)) + `) OR ` + strings.Join(likes, " OR ") + `)`
	// Their audit entries (an operator's note on resolving one) are about
	// the borrower too.
	err = e.db.each(ctx, "read unmatched replies", `SELECT id FROM replies WHERE `+unmatched, args, func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		e.replyTargets = append(e.replyTargets, "reply:"+id)
		return nil
	})
	if err != nil {
		return err
	}
	n, err = e.exec(ctx, "erase unmatched replies", `UPDATE replies SET from_address = '', body = '', resolution = ''
WHERE `+unmatched+` AND (from_address <> '' OR body <> '' OR resolution <> '')`, args...)
	out.Replies += n
	return err
}

// likeEscape escapes the LIKE wildcards of s (with \ as the escape).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(s))
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

// optOuts re-keys, then blanks the address and reason of, the lender's
// opt-outs of the found addresses on any channel; their keyed hashes stay
// and keep suppressing.
func (e *eraser) optOuts(ctx context.Context, out *Erasure) error {
	for _, a := range e.addrs {
		for _, ch := range nudge.Channels {
			if _, err := e.db.rekeyOptOut(ctx, e.tx, e.lender, ch, a); err != nil {
				return err
			}
			n, err := e.exec(ctx, "erase opt-out address", `UPDATE opt_outs SET address = '', reason = ''
WHERE lender = ? AND channel = ? AND address_hash = ? AND (address <> '' OR reason <> '')`,
				e.lender, string(ch), e.db.AddressHash(ch, a))
			if err != nil {
				return err
			}
			out.OptOuts += n
		}
	}
	return nil
}

// finder finds the erased borrower in records.
func (e *eraser) finder() *finder {
	n := newFinder(e.addrs, e.name)
	for _, a := range e.addrs {
		n.rehashes[plainHash(a)] = e.db.AddressHash(nudge.SMS, a) // a is normalised already
	}
	return n
}

// plainHash is AddressHash of an address already normalised.
func plainHash(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return hex.EncodeToString(sum[:])
}

// events scrubs the account's events, and the lender's events that name
// no account but mention the borrower.
func (e *eraser) events(ctx context.Context, out *Erasure) error {
	n := e.finder()
	type row struct {
		id                          int64
		action, reason, rule        string
		detail                      sql.NullString
		accountID                   string
		newAction, newReason, newRl string
		newDetail                   sql.NullString
	}
	rows, err := e.db.query(ctx, e.tx, `SELECT id, account_id, action, reason, rule, detail FROM events
WHERE lender = ? AND (account_id = ? OR account_id = '')`, e.lender, e.id)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	var changes []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.accountID, &r.action, &r.reason, &r.rule, &r.detail); err != nil {
			rows.Close()
			return fmt.Errorf("read events: %w", err)
		}
		about := r.accountID == e.id || n.mentions(r.action) || n.mentions(r.reason) || n.mentions(r.rule) ||
			r.detail.Valid && n.mentionsJSON(r.detail.String)
		if !about {
			continue
		}
		// Actions and reasons are codes; anything else in them is text
		// someone typed, which goes.
		r.newAction, r.newReason, r.newRl, r.newDetail = codeOnly(n.scrubText(r.action)), codeOnly(n.scrubText(r.reason)), n.scrubText(r.rule), r.detail
		if r.detail.Valid {
			r.newDetail.String = string(n.scrubJSON([]byte(r.detail.String)))
		}
		if r.newAction != r.action || r.newReason != r.reason || r.newRl != r.rule || r.newDetail != r.detail {
			changes = append(changes, r)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	for _, c := range changes {
		var detail any
		if c.newDetail.Valid {
			detail = c.newDetail.String
		}
		if _, err := e.exec(ctx, "erase event", `UPDATE events SET action = ?, reason = ?, rule = ?, detail = ? WHERE id = ?`,
			c.newAction, c.newReason, c.newRl, detail, c.id); err != nil {
			return err
		}
	}
	out.Events = len(changes)
	return nil
}

// audit scrubs the audit entries about the account, and the lender's (and
// the platform's) entries that mention the borrower, leaving what was done,
// by whom and when.
func (e *eraser) audit(ctx context.Context, out *Erasure) error {
	n := e.finder()
	type row struct {
		id                int64
		target, detail    string
		newTarget, newDet string
	}
	rows, err := e.db.query(ctx, e.tx, `SELECT id, action, target, detail FROM audit_log WHERE lender IN (?, ?) AND action <> ?`,
		e.lender, nudge.PlatformLender, AuditErasePersonalData)
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	var changes []row
	for rows.Next() {
		var (
			r      row
			action string
		)
		if err := rows.Scan(&r.id, &action, &r.target, &r.detail); err != nil {
			rows.Close()
			return fmt.Errorf("read audit: %w", err)
		}
		if r.target != e.id && !slices.Contains(e.replyTargets, r.target) && !n.mentions(r.target) && !n.mentionsJSON(r.detail) && !n.mentions(action) {
			continue
		}
		r.newTarget = n.rehash(r.target)
		if n.mentionsPersonal(r.newTarget) {
			r.newTarget = ErasedTarget
		}
		r.newDet = r.detail
		if r.detail != "" {
			r.newDet = string(n.scrubJSON([]byte(r.detail)))
		}
		if r.newTarget != r.target || r.newDet != r.detail {
			changes = append(changes, r)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	for _, c := range changes {
		if _, err := e.exec(ctx, "erase audit entry", `UPDATE audit_log SET target = ?, detail = ? WHERE id = ?`,
			c.newTarget, c.newDet, c.id); err != nil {
			return err
		}
	}
	out.Audit = len(changes)
	return nil
}

// codeOnly returns s when it reads as a code (letters, digits and _ . : / -),
// else empty.
func codeOnly(s string) string {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.:/-", r):
		default:
			return ""
		}
	}
	return s
}

// links deletes the account's link tokens.
func (e *eraser) links(ctx context.Context, out *Erasure) error {
	n, err := e.exec(ctx, "revoke links", `DELETE FROM link_tokens WHERE lender = ? AND account_id = ?`, e.lender, e.id)
	out.Links = n
	return err
}

// finder finds a borrower in text: their addresses (normalised; phone
// numbers also by their digits, however they are written), their name, and
// the plain and keyed hashes of their addresses.
type finder struct {
	text   []string
	digits []string
	// rehashes maps each plain (unkeyed) address hash to its keyed hash.
	rehashes map[string]string
}

// newFinder returns the finder of addresses (normalised as
// NormalizeAddress does) and a name (ignored when shorter than
// minNameNeedle characters).
func newFinder(addresses []string, name string) *finder {
	n := &finder{rehashes: map[string]string{}}
	for _, a := range addresses {
		n.text = append(n.text, strings.ToLower(a))
		if d := digitsOf(a); len(d) >= 7 {
			n.digits = append(n.digits, d)
		}
	}
	if name = strings.ToLower(strings.TrimSpace(name)); utf8.RuneCountInString(name) >= minNameNeedle {
		n.text = append(n.text, name)
	}
	return n
}

// mentionsPersonal reports whether s contains an address or the name.
func (n *finder) mentionsPersonal(s string) bool {
	if s == "" {
		return false
	}
	low := strings.ToLower(s)
	for _, t := range n.text {
		if strings.Contains(low, t) {
			return true
		}
	}
	if len(n.digits) > 0 {
		digits := digitsOf(s)
		for _, d := range n.digits {
			if strings.Contains(digits, d) {
				return true
			}
		}
	}
	return false
}

// mentions reports whether s contains an address, the name or an address
// hash (plain or keyed).
func (n *finder) mentions(s string) bool {
	if n.mentionsPersonal(s) {
		return true
	}
	for plain, keyed := range n.rehashes {
		if strings.Contains(s, plain) || strings.Contains(s, keyed) {
			return true
		}
	}
	return false
}

// mentionsJSON reports whether the JSON document doc (or, when it is not
// JSON, the text) mentions the borrower in any string.
func (n *finder) mentionsJSON(doc string) bool {
	if doc == "" {
		return false
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return n.mentions(doc)
	}
	return n.mentionsValue(v)
}

func (n *finder) mentionsValue(v any) bool {
	switch t := v.(type) {
	case string:
		return n.mentions(t)
	case map[string]any:
		for k, x := range t {
			if n.mentions(k) || n.mentionsValue(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if n.mentionsValue(x) {
				return true
			}
		}
	}
	return false
}

// rehash replaces plain address hashes in s with keyed ones.
func (n *finder) rehash(s string) string {
	for plain, keyed := range n.rehashes {
		s = strings.ReplaceAll(s, plain, keyed)
	}
	return s
}

// scrubText returns s with plain hashes keyed, or empty when it mentions
// an address or the name.
func (n *finder) scrubText(s string) string {
	if n.mentionsPersonal(s) {
		return ""
	}
	return n.rehash(s)
}

// scrubJSON returns the JSON document doc with every member named like
// personal data or free text (personalKeys, any case) removed, every member
// or array element whose text mentions an address or the name removed, and
// plain address hashes keyed. A document that is not JSON becomes null.
func (n *finder) scrubJSON(doc []byte) []byte {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []byte("null")
	}
	scrubbed, changed := n.scrub(v)
	if !changed {
		return doc
	}
	b, err := json.Marshal(scrubbed)
	if err != nil {
		return []byte("null")
	}
	return b
}

// scrub removes personal members and matching values from v and keys hashes.
func (n *finder) scrub(v any) (any, bool) {
	switch t := v.(type) {
	case string:
		if s := n.rehash(t); s != t {
			return s, true
		}
		return t, false
	case map[string]any:
		changed := false
		for k, x := range t {
			if personalKeys[strings.ToLower(k)] || n.mentionsPersonal(k) || n.mentionsValuePersonal(x) {
				delete(t, k)
				changed = true
				continue
			}
			if y, c := n.scrub(x); c {
				t[k], changed = y, true
			}
		}
		return t, changed
	case []any:
		kept := t[:0]
		changed := false
		for _, x := range t {
			if n.mentionsValuePersonal(x) {
				changed = true
				continue
			}
			y, c := n.scrub(x)
			changed = changed || c
			kept = append(kept, y)
		}
		return kept, changed
	}
	return v, false
}

// mentionsValuePersonal reports whether v is a string that mentions an
// address or the name.
func (n *finder) mentionsValuePersonal(v any) bool {
	s, ok := v.(string)
	return ok && n.mentionsPersonal(s)
}

// ScrubDetail removes from the JSON document detail every object member
// named like personal data or free text (personalKeys; any case) and every
// member or array element whose text contains one of addresses (normalised
// as NormalizeAddress does; phone numbers are also found by their digits).
// It returns the document and whether it changed; a document that is not
// JSON becomes null.
func ScrubDetail(detail []byte, addresses []string) ([]byte, bool) {
	out := newFinder(addresses, "").scrubJSON(detail)
	return out, string(out) != string(detail)
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

// workItems erases what the account's work items say about the borrower:
// the contact they were about, their instructions and the notes people
// wrote; kind, status and outcome stay for the audit.
func (e *eraser) workItems(ctx context.Context, out *Erasure) error {
	n, err := e.exec(ctx, "erase work items", `UPDATE work_items SET address = '', instructions = '', note = ''
WHERE lender = ? AND account_id = ? AND (address <> '' OR instructions <> '' OR note <> '')`, e.lender, e.id)
	out.WorkItems = n
	return err
}
