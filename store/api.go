package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// MaxPageSize is the most records one page query returns.
const MaxPageSize = 1000

// Cursor marks where a page ends: the sort time and id of its last record.
// The next page starts after it. A zero Cursor starts at the beginning.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c starts at the beginning.
func (c Cursor) IsZero() bool { return c.ID == "" }

// pageEpoch stands for a NULL sort time, which sorts first.
var pageEpoch = time.Unix(0, 0).UTC()

// ReminderQuery selects one page of a lender's reminders, in order of due
// time and id.
type ReminderQuery struct {
	// Lender is required: a page never mixes lenders.
	Lender string
	// AccountID, Status and Channel narrow the page when set.
	AccountID string
	Status    nudge.ReminderStatus
	Channel   nudge.ChannelKind
	// After is the cursor of the previous page's last reminder (its DueAt and ID).
	After Cursor
	// Limit is the page size, from 1 to MaxPageSize.
	Limit int
}

// AttemptQuery selects one page of a lender's attempts, in order of creation
// time and id (newest first with Newest).
type AttemptQuery struct {
	Lender    string
	AccountID string
	Status    nudge.AttemptStatus
	// Statuses, when set, keeps the attempts in any of them (with Status,
	// in both).
	Statuses []nudge.AttemptStatus
	Channel  nudge.ChannelKind
	// ErrorCode keeps the attempts that recorded this provider error code.
	ErrorCode string
	// Since and Until bound the creation time: Since <= created < Until; zero means unbounded.
	Since, Until time.Time
	// After is the cursor of the previous page's last attempt (its CreatedAt and ID).
	After Cursor
	// Newest orders the page newest first; After then continues backwards.
	Newest bool
	Limit  int
}

// PromiseQuery selects one page of a lender's promises, in order of creation
// time and id (newest first with Newest).
type PromiseQuery struct {
	Lender    string
	AccountID string
	Status    nudge.PromiseStatus
	// Since and Until bound the creation time: Since <= created < Until; zero means unbounded.
	Since, Until time.Time
	// After is the cursor of the previous page's last promise (its CreatedAt and ID).
	After Cursor
	// Newest orders the page newest first; After then continues backwards.
	Newest bool
	Limit  int
}

// pageClause builds the WHERE and ORDER BY tail of a keyset page over
// sortCol (nullable when nullable is set) and id.
type pageClause struct {
	db    *DB
	where []string
	args  []any
}

func (p *pageClause) add(cond string, args ...any) {
	p.where = append(p.where, cond)
	p.args = append(p.args, args...)
}

func (p *pageClause) finish(sortCol string, nullable bool, after Cursor, limit int) (string, []any) {
	return p.finishIn(sortCol, nullable, false, after, limit)
}

// finishIn is finish, newest first when desc is set.
func (p *pageClause) finishIn(sortCol string, nullable, desc bool, after Cursor, limit int) (string, []any) {
	cmp, dir := ">", ""
	if desc {
		cmp, dir = "<", " DESC"
	}
	col := sortCol
	if nullable {
		col = "COALESCE(" + sortCol + ", ?)"
	}
	sortArgs := func() []any {
		if nullable {
			return []any{p.db.tv(pageEpoch)}
		}
		return nil
	}
	if !after.IsZero() {
		at := after.At
		if at.IsZero() {
			at = pageEpoch
		}
		cond := "(" + col + " " + cmp + " ? OR (" + col + " = ? AND id " + cmp + " ?))"
		var args []any
		args = append(args, sortArgs()...)
		args = append(args, p.db.tv(at))
		args = append(args, sortArgs()...)
		args = append(args, p.db.tv(at), after.ID)
		p.add(cond, args...)
	}
	q := " WHERE " + strings.Join(p.where, " AND ") + " ORDER BY " + col + dir + ", id" + dir + " LIMIT ?"
	args := append([]any{}, p.args...)
	args = append(args, sortArgs()...)
	args = append(args, limit)
	return q, args
}

func checkPage(what, lender string, limit int) error {
	if lender == "" {
		return fmt.Errorf("%s: lender is required", what)
	}
	if limit < 1 || limit > MaxPageSize {
		return fmt.Errorf("%s: limit %d is not between 1 and %d", what, limit, MaxPageSize)
	}
	return nil
}

// PageReminders returns up to q.Limit of the lender's reminders after
// q.After, ordered by due time and id.
func (db *DB) PageReminders(ctx context.Context, q ReminderQuery) ([]nudge.Reminder, error) {
	if err := checkPage("page reminders", q.Lender, q.Limit); err != nil {
		return nil, err
	}
	p := &pageClause{db: db}
	p.add("lender = ?", q.Lender)
	if q.AccountID != "" {
		p.add("account_id = ?", q.AccountID)
	}
	if q.Status != "" {
		p.add("status = ?", string(q.Status))
	}
	if q.Channel != "" {
		p.add("channel = ?", string(q.Channel))
	}
	tail, args := p.finish("due_at", true, q.After, q.Limit)
	return db.listReminders(ctx, "page reminders of "+q.Lender, `SELECT `+reminderCols+` FROM reminders`+tail, args...)
}

// PageAttempts returns up to q.Limit of the lender's attempts after q.After,
// ordered by creation time and id.
func (db *DB) PageAttempts(ctx context.Context, q AttemptQuery) ([]nudge.Attempt, error) {
	if err := checkPage("page attempts", q.Lender, q.Limit); err != nil {
		return nil, err
	}
	p := &pageClause{db: db}
	p.add("lender = ?", q.Lender)
	if q.AccountID != "" {
		p.add("account_id = ?", q.AccountID)
	}
	if q.Status != "" {
		p.add("status = ?", string(q.Status))
	}
	if len(q.Statuses) > 0 {
		args := make([]any, len(q.Statuses))
		for i, s := range q.Statuses {
			args[i] = string(s)
		}
		p.add("status IN ("+placeholders(len(args))+")", args...)
	}
	if q.Channel != "" {
		p.add("channel = ?", string(q.Channel))
	}
	if q.ErrorCode != "" {
		p.add("error_code = ?", q.ErrorCode)
	}
	if !q.Since.IsZero() {
		p.add("created_at >= ?", db.tv(q.Since))
	}
	if !q.Until.IsZero() {
		p.add("created_at < ?", db.tv(q.Until))
	}
	tail, args := p.finishIn("created_at", false, q.Newest, q.After, q.Limit)
	rows, err := db.query(ctx, db.read, `SELECT `+attemptCols+` FROM attempts`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("page attempts of %s: %w", q.Lender, err)
	}
	defer rows.Close()
	var out []nudge.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("page attempts of %s: %w", q.Lender, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page attempts of %s: %w", q.Lender, err)
	}
	return out, nil
}

// PagePromises returns up to q.Limit of the lender's promises after q.After,
// ordered by creation time and id.
func (db *DB) PagePromises(ctx context.Context, q PromiseQuery) ([]nudge.Promise, error) {
	if err := checkPage("page promises", q.Lender, q.Limit); err != nil {
		return nil, err
	}
	p := &pageClause{db: db}
	p.add("lender = ?", q.Lender)
	if q.AccountID != "" {
		p.add("account_id = ?", q.AccountID)
	}
	if q.Status != "" {
		p.add("status = ?", string(q.Status))
	}
	if !q.Since.IsZero() {
		p.add("created_at >= ?", db.tv(q.Since))
	}
	if !q.Until.IsZero() {
		p.add("created_at < ?", db.tv(q.Until))
	}
	tail, args := p.finishIn("created_at", true, q.Newest, q.After, q.Limit)
	return db.listPromises(ctx, "page promises of "+q.Lender, `SELECT `+promiseCols+` FROM promises`+tail, args...)
}

// AccountReplies returns the replies matched to the lender's account, oldest first.
func (db *DB) AccountReplies(ctx context.Context, lender, accountID string) ([]nudge.Reply, error) {
	if lender == "" || accountID == "" {
		return nil, errors.New("account replies: lender and account are required")
	}
	rows, err := db.query(ctx, db.read, `SELECT `+replyCols+` FROM replies WHERE lender = ? AND account_id = ?
ORDER BY created_at, id`, lender, accountID)
	if err != nil {
		return nil, fmt.Errorf("replies of %s/%s: %w", lender, accountID, err)
	}
	defer rows.Close()
	var out []nudge.Reply
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, fmt.Errorf("replies of %s/%s: %w", lender, accountID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replies of %s/%s: %w", lender, accountID, err)
	}
	return out, nil
}

// ListAPIKeys returns the lender's API keys, revoked ones included, oldest
// first. Only hashes are stored, so no secret is returned.
func (db *DB) ListAPIKeys(ctx context.Context, lender string) ([]nudge.APIKey, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+apiKeyCols+` FROM api_keys WHERE lender = ? ORDER BY created_at, id`, lender)
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", lender, err)
	}
	defer rows.Close()
	var out []nudge.APIKey
	for rows.Next() {
		var (
			k    nudge.APIKey
			role string
		)
		if err := rows.Scan(&k.ID, &k.Lender, &role, &k.Hash, timeCol{&k.CreatedAt}, timeCol{&k.RevokedAt}); err != nil {
			return nil, fmt.Errorf("list api keys of %s: %w", lender, err)
		}
		k.Role = nudge.Role(role)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", lender, err)
	}
	return out, nil
}
