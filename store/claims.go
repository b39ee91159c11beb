package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nudgehq/nudge"
)

// ClaimAttempt inserts a, in status sending unless a.Status says otherwise,
// after checking limits against earlier attempts, all in one transaction
// that excludes concurrent claims for the same account (and address) across
// processes. a.CreatedAt is the claim instant; an empty a.ID gets a new id.
//
// When an attempt for the reminder and channel exists it returns that one
// and nudge.ErrAlreadyClaimed. When a limit is reached it returns a
// *CapError, which matches nudge.ErrCapReached. A limit counts the account's
// attempts on its channel (every channel when it names none) created after
// a.CreatedAt minus its window; with PerAddress it counts the lender's
// attempts to a.Address on the channel, whichever account they were for.
// events are appended in the same transaction when the attempt is inserted.
func (db *DB) ClaimAttempt(ctx context.Context, a nudge.Attempt, limits []nudge.CapLimit, events ...nudge.Event) (nudge.Attempt, error) {
	res := db.ClaimAttempts(ctx, []nudge.Claim{{Attempt: a, Limits: limits, Events: events}})[0]
	return res.Attempt, res.Err
}

// ClaimAttempts makes claims in one transaction with a fixed number of
// statements whatever their number: the locks of every account (and
// address) in one, the accounts' recent attempts and the claims' earlier
// attempts in one (a second for per-address limits), the new attempts in
// one multi-row insert and their events in another. The claims are checked
// in order, each counting the ones before it that it claimed. A claim that
// cannot be made gets ClaimAttempt's error and leaves the others alone; a
// failure of the transaction is every claim's error.
func (db *DB) ClaimAttempts(ctx context.Context, claims []nudge.Claim) []nudge.ClaimResult {
	results := make([]nudge.ClaimResult, len(claims))
	var todo []int
	for i := range claims {
		if err := prepareClaim(&claims[i]); err != nil {
			results[i].Err = err
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results
	}
	var keys []string
	for _, i := range todo {
		keys = append(keys, claimLockKeys(claims[i])...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	err := errNotPiped
	if db.backend == Postgres {
		err = db.claimPiped(ctx, claims, todo, keys, results)
	}
	if err != nil && (errors.Is(err, errNotPiped) || isRefusal(err)) {
		// A claim that lost its reminder to a concurrent one under another
		// lender or account (the unique key of reminder and channel) is
		// found here, one statement at a time.
		for _, i := range todo {
			results[i] = nudge.ClaimResult{}
		}
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.lockAll(ctx, tx, keys...); err != nil {
				return err
			}
			seen, history := db.claimHistory(claims, todo)
			for _, q := range history {
				if err := db.runIn(ctx, tx, q); err != nil {
					return err
				}
			}
			insert := decideClaims(claims, todo, seen, results)
			inserted, err := db.insertAttempts(ctx, tx, claims, insert)
			if err != nil {
				return err
			}
			var events []nudge.Event
			for _, i := range insert {
				a := claims[i].Attempt
				if inserted[a.ID] {
					results[i].Attempt = a
					events = append(events, claims[i].Events...)
					continue
				}
				// A concurrent claim under another lender or account won
				// the reminder; report it like any earlier claim.
				prev, err := scanAttempt(db.queryRow(ctx, tx, `SELECT `+attemptCols+` FROM attempts WHERE reminder_id = ? AND channel = ?`,
					a.ReminderID, string(a.Channel)))
				if err != nil {
					return fmt.Errorf("look up claim: %w", err)
				}
				results[i] = nudge.ClaimResult{Attempt: prev, Err: nudge.ErrAlreadyClaimed}
			}
			return db.insertEvents(ctx, tx, events)
		})
	}
	for _, i := range todo {
		a := claims[i].Attempt
		r := &results[i]
		var capErr *CapError
		switch {
		case err != nil:
			*r = nudge.ClaimResult{Err: fmt.Errorf("claim attempt for reminder %s on %s: %w", a.ReminderID, a.Channel, err)}
		case errors.Is(r.Err, nudge.ErrAlreadyClaimed):
			r.Err = fmt.Errorf("claim attempt for reminder %s on %s: %w", a.ReminderID, a.Channel, nudge.ErrAlreadyClaimed)
		case errors.As(r.Err, &capErr):
		case r.Err != nil:
			r.Err = fmt.Errorf("claim attempt for reminder %s on %s: %w", a.ReminderID, a.Channel, r.Err)
		}
	}
	return results
}

// errNotPiped sends a write to the database/sql path: the backend is not
// PostgreSQL, or the batch is of a shape the pipelined path leaves to it.
var errNotPiped = errors.New("not a pipelined write")

// claimPiped makes the claims of todo in a pipelined transaction of two
// round trips: BEGIN, the locks and the claims' history in the first; the
// new attempts, their events and COMMIT in the second. The attempts are
// inserted without ON CONFLICT, so that an attempt that would not be
// inserted fails the batch (nothing written) and the caller makes the claims
// again on the database/sql path, which finds who won. The account locks
// make that rare: a claim of the same reminder under the same account waits
// for this one and then finds its attempt in its history.
func (db *DB) claimPiped(ctx context.Context, claims []nudge.Claim, todo []int, keys []string, results []nudge.ClaimResult) error {
	var insert []int
	err := db.inPipeTx(ctx, false, func(tx *pipeTx) ([]readQuery, error) {
		seen, history := db.claimHistory(claims, todo)
		if err := tx.send(ctx, append([]readQuery{lockAllQuery(keys)}, history...)...); err != nil {
			return nil, err
		}
		insert = decideClaims(claims, todo, seen, results)
		if len(insert) == 0 {
			return nil, nil
		}
		var events []nudge.Event
		for _, i := range insert {
			events = append(events, claims[i].Events...)
		}
		ins, err := db.insertAttemptsQuery(claims, insert, false, nil)
		if err != nil {
			return nil, err
		}
		last := []readQuery{ins}
		if len(events) > 0 {
			last = append(last, insertEventsQuery(events))
		}
		return last, nil
	})
	if err != nil {
		return err
	}
	for _, i := range insert {
		results[i].Attempt = claims[i].Attempt
	}
	return nil
}

// decideClaims checks the claims of todo in order against seen, setting the
// result of each that cannot be made, and returns those to insert.
func decideClaims(claims []nudge.Claim, todo []int, seen *claimsSeen, results []nudge.ClaimResult) []int {
	var insert []int
	for _, i := range todo {
		c := claims[i]
		if prev, ok := seen.mine[claimKey(c.Attempt)]; ok {
			results[i] = nudge.ClaimResult{Attempt: prev, Err: nudge.ErrAlreadyClaimed}
			continue
		}
		if err := seen.check(c); err != nil {
			results[i].Err = err
			continue
		}
		seen.add(c.Attempt)
		insert = append(insert, i)
	}
	return insert
}

// prepareClaim checks c and fills its attempt's defaults: a new id, status
// sending, times in UTC.
func prepareClaim(c *nudge.Claim) error {
	a := &c.Attempt
	switch {
	case a.ReminderID == "" || a.Lender == "" || a.AccountID == "":
		return errors.New("claim attempt: reminder, lender and account are required")
	case !a.Channel.Valid():
		return fmt.Errorf("claim attempt for reminder %s: unknown channel %q", a.ReminderID, a.Channel)
	case a.CreatedAt.IsZero():
		return fmt.Errorf("claim attempt for reminder %s: created_at is required", a.ReminderID)
	}
	if a.ID == "" {
		a.ID = newID("att")
	}
	if a.Status == "" {
		a.Status = nudge.AttemptSending
	}
	if a.Status.Rank() < 0 {
		return fmt.Errorf("claim attempt for reminder %s: unknown status %q", a.ReminderID, a.Status)
	}
	a.CreatedAt, a.SendingAt, a.SentAt, a.UpdatedAt = truncUTC(a.CreatedAt), truncUTC(a.SendingAt), truncUTC(a.SentAt), truncUTC(a.UpdatedAt)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	for _, e := range c.Events {
		if err := checkEvent(e); err != nil {
			return fmt.Errorf("claim attempt for reminder %s: %w", a.ReminderID, err)
		}
	}
	return nil
}

// claimLockKeys names the locks a claim takes: its account's, and its
// address's when a limit counts per address.
func claimLockKeys(c nudge.Claim) []string {
	a := c.Attempt
	keys := []string{"account/" + a.Lender + "/" + a.AccountID}
	for _, l := range c.Limits {
		if l.PerAddress {
			return append(keys, "address/"+a.Lender+"/"+string(l.Channel)+"/"+a.Address)
		}
	}
	return keys
}

// claimKey names the one attempt a reminder may have on a channel.
func claimKey(a nudge.Attempt) string { return a.ReminderID + "\x00" + string(a.Channel) }

// claimsSeen is what the checks of a batch of claims count: the earlier
// attempts of their reminders, their accounts' and addresses' recent
// attempts, and the claims of the batch accepted so far.
type claimsSeen struct {
	mine      map[string]nudge.Attempt
	byAccount map[string][]nudge.Attempt
	byAddress map[string][]nudge.Attempt
}

func accountKey(a nudge.Attempt) string { return a.Lender + "\x00" + a.AccountID }
func addressKey(a nudge.Attempt) string { return a.Lender + "\x00" + a.Address }

// add counts a as an attempt the claims after it see.
func (s *claimsSeen) add(a nudge.Attempt) {
	s.mine[claimKey(a)] = a
	s.byAccount[accountKey(a)] = append(s.byAccount[accountKey(a)], a)
	s.byAddress[addressKey(a)] = append(s.byAddress[addressKey(a)], a)
}

// check returns a *CapError when one of c's limits is reached.
func (s *claimsSeen) check(c nudge.Claim) error {
	a := c.Attempt
	for _, l := range c.Limits {
		if l.Max <= 0 {
			return &CapError{Limit: l}
		}
		prior := s.byAccount[accountKey(a)]
		if l.PerAddress {
			prior = s.byAddress[addressKey(a)]
		}
		since, n := a.CreatedAt.Add(-l.Window), 0
		for i := range prior {
			p := &prior[i]
			if p.CreatedAt.After(since) && (l.Channel == "" || p.Channel == l.Channel) && capCounts(l.Count, p) {
				n++
			}
		}
		if n >= l.Max {
			return &CapError{Limit: l, Count: n}
		}
	}
	return nil
}

// claimHistory returns the statements that read what the claims of todo are
// checked against, and the claimsSeen they fill: the earlier attempts of
// their reminders and their accounts' attempts within the longest window of
// their limits, in one statement, and when a limit counts per address, the
// addresses' attempts within its window in a second. It reads more than
// each claim needs (every lender and account of the batch crossed, the
// longest window); check filters.
func (db *DB) claimHistory(claims []nudge.Claim, todo []int) (*claimsSeen, []readQuery) {
	s := &claimsSeen{mine: map[string]nudge.Attempt{}, byAccount: map[string][]nudge.Attempt{}, byAddress: map[string][]nudge.Attempt{}}
	var (
		lenders, accounts, reminders, addrLenders, addresses []any
		addrChannels                                         []any
		since, addrSince                                     time.Time
		anyChannel                                           bool
	)
	for _, i := range todo {
		a := claims[i].Attempt
		lenders, accounts, reminders = append(lenders, a.Lender), append(accounts, a.AccountID), append(reminders, a.ReminderID)
		var window time.Duration
		for _, l := range claims[i].Limits {
			if !l.PerAddress {
				window = max(window, l.Window)
				continue
			}
			addrLenders, addresses = append(addrLenders, a.Lender), append(addresses, a.Address)
			if l.Channel == "" {
				anyChannel = true
			}
			addrChannels = append(addrChannels, string(l.Channel))
			if t := a.CreatedAt.Add(-l.Window); addrSince.IsZero() || t.Before(addrSince) {
				addrSince = t
			}
		}
		if t := a.CreatedAt.Add(-window); since.IsZero() || t.Before(since) {
			since = t
		}
	}
	lenderIn, lenderArgs := db.inList("lender", compactAny(lenders))
	accountIn, accountArgs := db.inList("account_id", compactAny(accounts))
	reminderIn, reminderArgs := db.inList("reminder_id", reminders)
	args := append(append(append(append([]any{}, lenderArgs...), accountArgs...), reminderArgs...), db.tv(since))
	qs := []readQuery{{name: "look up claims", sql: `SELECT ` + attemptCols + ` FROM attempts
WHERE ` + lenderIn + ` AND ` + accountIn + `
  AND (` + reminderIn + ` OR created_at > ?)`, args: args,
		row: scanAttemptInto(func(a nudge.Attempt) {
			s.mine[claimKey(a)] = a
			s.byAccount[accountKey(a)] = append(s.byAccount[accountKey(a)], a)
		})}}
	if len(addresses) == 0 {
		return s, qs
	}
	addrLenderIn, addrLenderArgs := db.inList("lender", compactAny(addrLenders))
	addressIn, addressArgs := db.inList("address", compactAny(addresses))
	q := `SELECT ` + attemptCols + ` FROM attempts WHERE ` + addrLenderIn + `
  AND ` + addressIn + ` AND created_at > ?`
	args = append(append(append([]any{}, addrLenderArgs...), addressArgs...), db.tv(addrSince))
	if !anyChannel {
		// A limit without a channel counts every channel (Washington, New
		// York City: communications of any kind); otherwise the address
		// index serves the channels named.
		channelIn, channelArgs := db.inList("channel", compactAny(addrChannels))
		q += ` AND ` + channelIn
		args = append(args, channelArgs...)
	}
	return s, append(qs, readQuery{name: "look up claims by address", sql: q, args: args,
		row: scanAttemptInto(func(a nudge.Attempt) {
			s.byAddress[addressKey(a)] = append(s.byAddress[addressKey(a)], a)
		})})
}

// scanAttemptInto is a readQuery row function handing each attempt to each.
func scanAttemptInto(each func(nudge.Attempt)) func(s interface{ Scan(...any) error }) error {
	return func(s interface{ Scan(...any) error }) error {
		a, err := scanAttempt(s)
		if err != nil {
			return err
		}
		each(a)
		return nil
	}
}

// compactAny returns vs without repeats, in first-seen order.
func compactAny(vs []any) []any {
	seen := make(map[any]bool, len(vs))
	out := vs[:0:0]
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// insertAttemptsQuery inserts the attempts of the claims of idx in one
// statement. With onConflict an attempt whose reminder and channel already
// have one is not inserted, and the ids inserted are set in inserted;
// without, such an attempt fails the statement.
func (db *DB) insertAttemptsQuery(claims []nudge.Claim, idx []int, onConflict bool, inserted map[string]bool) (readQuery, error) {
	if db.backend == Postgres {
		return insertAttemptsUnnest(claims, idx, onConflict, inserted)
	}
	args := make([]any, 0, len(idx)*attemptColCount)
	for _, i := range idx {
		a := claims[i].Attempt
		zones, menu, err := attemptBlobs(a)
		if err != nil {
			return readQuery{}, err
		}
		args = append(args, a.ID, a.ReminderID, a.Lender, a.AccountID, string(a.Channel), a.Address, string(a.Status), string(a.Reason),
			a.ErrorCode, a.ProviderID, string(zones), a.Profile, a.AnsweredBy, a.Conversation, a.Body, a.Template, menu,
			db.tv(a.CreatedAt), db.tv(a.SendingAt), db.tv(a.SentAt), db.tv(a.UpdatedAt), a.Segments, a.CallSeconds)
	}
	q := readQuery{name: "insert", sql: `INSERT INTO attempts (` + attemptCols + `) VALUES ` + valuesRows(len(idx), attemptColCount), args: args}
	onConflictReturning(&q, onConflict, inserted)
	return q, nil
}

// attemptBlobs returns a's zones (a JSON list, [] for none) and menu as
// they are stored.
func attemptBlobs(a nudge.Attempt) (zones []byte, menu string, err error) {
	if zones, err = json.Marshal(a.Zones); err != nil {
		return nil, "", fmt.Errorf("claim attempt for reminder %s: zones: %w", a.ReminderID, err)
	}
	if a.Zones == nil {
		zones = []byte("[]")
	}
	if menu, err = encodeMenu(a.Menu); err != nil {
		return nil, "", fmt.Errorf("claim attempt for reminder %s: %w", a.ReminderID, err)
	}
	return zones, menu, nil
}

// onConflictReturning makes q, an insert of attempts, skip those whose
// reminder and channel already have one and set the ids it inserted in
// inserted, when onConflict.
func onConflictReturning(q *readQuery, onConflict bool, inserted map[string]bool) {
	if onConflict {
		q.sql += `
ON CONFLICT (reminder_id, channel) DO NOTHING RETURNING id`
		q.row = func(s interface{ Scan(...any) error }) error {
			var id string
			if err := s.Scan(&id); err != nil {
				return err
			}
			inserted[id] = true
			return nil
		}
	}
}

// insertAttemptsUnnest is insertAttemptsQuery on PostgreSQL: one INSERT
// over column arrays, whose text is the same for any number of attempts
// (one prepared statement and plan, where a VALUES list is a statement of
// its own for every length).
func insertAttemptsUnnest(claims []nudge.Claim, idx []int, onConflict bool, inserted map[string]bool) (readQuery, error) {
	n := len(idx)
	var (
		id, reminder, lender, account, channel, address = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, reason, code, pid, zones, profile       = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		answered, body, tmpl, menu                      = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		conv                                            = make([]bool, n)
		created, sending, sent, updated                 = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		segs, secs                                      = make([]int64, n), make([]int64, n)
	)
	for k, i := range idx {
		a := claims[i].Attempt
		z, m, err := attemptBlobs(a)
		if err != nil {
			return readQuery{}, err
		}
		id[k], reminder[k], lender[k], account[k], channel[k], address[k] = a.ID, a.ReminderID, a.Lender, a.AccountID, string(a.Channel), a.Address
		status[k], reason[k], code[k], pid[k], zones[k], profile[k] = string(a.Status), string(a.Reason), a.ErrorCode, a.ProviderID, string(z), a.Profile
		answered[k], body[k], tmpl[k], menu[k] = a.AnsweredBy, a.Body, a.Template, m
		conv[k] = a.Conversation
		created[k], sending[k], sent[k], updated[k] = pgTime(a.CreatedAt), pgTime(a.SendingAt), pgTime(a.SentAt), pgTime(a.UpdatedAt)
		segs[k], secs[k] = int64(a.Segments), int64(a.CallSeconds)
	}
	// WITH ORDINALITY keeps the claims' order.
	q := readQuery{name: "insert", sql: `INSERT INTO attempts (` + attemptCols + `)
SELECT ` + attemptCols + ` FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[], $15::text[], $16::text[], $17::text[],
    $18::timestamptz[], $19::timestamptz[], $20::timestamptz[], $21::timestamptz[], $22::int[], $23::int[])
    WITH ORDINALITY AS v (` + attemptCols + `, n)
ORDER BY n`, args: []any{id, reminder, lender, account, channel, address, status, reason, code, pid, zones, profile,
		answered, conv, body, tmpl, menu, created, sending, sent, updated, segs, secs}}
	onConflictReturning(&q, onConflict, inserted)
	return q, nil
}

// insertAttempts inserts the attempts of the claims of idx in one statement
// through tx and returns the ids it inserted: an attempt whose reminder and
// channel already have one is not.
func (db *DB) insertAttempts(ctx context.Context, tx *sql.Tx, claims []nudge.Claim, idx []int) (map[string]bool, error) {
	inserted := make(map[string]bool, len(idx))
	if len(idx) == 0 {
		return inserted, nil
	}
	q, err := db.insertAttemptsQuery(claims, idx, true, inserted)
	if err != nil {
		return nil, err
	}
	return inserted, db.runIn(ctx, tx, q)
}
