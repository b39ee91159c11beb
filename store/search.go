package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge"
)

// MaxSearchText bounds the text of an account search, in bytes.
const MaxSearchText = 200

// AccountSearch looks for a lender's accounts. Every field that is set is
// tried and the matches are put together; the caller normalises what the
// operator typed (a phone number to E.164, an email address to lower case).
type AccountSearch struct {
	// Lender is required: a search never crosses lenders.
	Lender string
	// ID matches an account id exactly, without regard to case.
	ID string
	// Phones match an SMS or voice contact exactly (E.164).
	Phones []string
	// Email matches an email contact exactly (contacts are stored lower-cased).
	Email string
	// Name matches a case-insensitive part of the borrower's name.
	Name string
	// Limit is how many accounts to return, from 1 to MaxPageSize.
	Limit int
}

// Search match kinds, in the order results are given.
const (
	MatchID    = "id"
	MatchPhone = "phone"
	MatchEmail = "email"
	MatchName  = "name"
)

// AccountMatch is one account a search found, and what matched.
type AccountMatch struct {
	Account nudge.Account
	// By is MatchID, MatchPhone, MatchEmail or MatchName: the first that matched.
	By string
}

// SearchAccounts returns up to q.Limit of the lender's accounts matching q:
// by id (the (lender, LOWER(id)) index), phone or email (the contacts'
// address index), then name (a scan of the lender's accounts along the
// primary key, stopped at the limit). Each account is given once, under its
// first match, ordered by match kind then id.
func (db *DB) SearchAccounts(ctx context.Context, q AccountSearch) ([]AccountMatch, error) {
	const what = "search accounts"
	if err := checkPage(what, q.Lender, q.Limit); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"id", q.ID}, {"email", q.Email}, {"name", q.Name}} {
		if len(f.v) > MaxSearchText {
			return nil, fmt.Errorf("%s of %s: %s is longer than %d bytes", what, q.Lender, f.name, MaxSearchText)
		}
	}
	var (
		ids  []string
		kind = map[string]string{}
	)
	add := func(by, query string, args ...any) error {
		if len(ids) >= q.Limit {
			return nil
		}
		return db.each(ctx, what+" of "+q.Lender+" by "+by, query+` LIMIT ?`, append(args, q.Limit), func(scan func(...any) error) error {
			var id string
			if err := scan(&id); err != nil {
				return err
			}
			if _, dup := kind[id]; !dup && len(ids) < q.Limit {
				kind[id] = by
				ids = append(ids, id)
			}
			return nil
		})
	}
	if id := strings.TrimSpace(q.ID); id != "" {
		if err := add(MatchID, `SELECT id FROM accounts WHERE lender = ? AND LOWER(id) = ? ORDER BY id`, q.Lender, strings.ToLower(id)); err != nil {
			return nil, err
		}
	}
	if len(q.Phones) > 0 {
		args := []any{string(nudge.SMS), string(nudge.Voice)}
		for _, p := range q.Phones {
			args = append(args, p)
		}
		args = append(args, q.Lender)
		if err := add(MatchPhone, `SELECT DISTINCT account_id FROM contacts WHERE channel IN (?, ?) AND address IN (`+
			placeholders(len(q.Phones))+`) AND lender = ? ORDER BY account_id`, args...); err != nil {
			return nil, err
		}
	}
	if email := strings.ToLower(strings.TrimSpace(q.Email)); email != "" {
		if err := add(MatchEmail, `SELECT account_id FROM contacts WHERE channel = ? AND address = ? AND lender = ? ORDER BY account_id`,
			string(nudge.Email), email, q.Lender); err != nil {
			return nil, err
		}
	}
	if name := strings.ToLower(strings.TrimSpace(q.Name)); name != "" {
		if err := add(MatchName, `SELECT id FROM accounts WHERE lender = ? AND LOWER(borrower_name) LIKE ? ESCAPE '\' ORDER BY id`,
			q.Lender, "%"+likeEscape(name)+"%"); err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{q.Lender}
	for _, id := range ids {
		args = append(args, id)
	}
	accts, err := db.loadAccounts(ctx, db.read, `SELECT `+accountCols+` FROM accounts WHERE lender = ? AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, q.Lender, err)
	}
	byID := make(map[string]nudge.Account, len(accts))
	for _, a := range accts {
		byID[a.ID] = a
	}
	out := make([]AccountMatch, 0, len(ids))
	for _, id := range ids {
		if a, ok := byID[id]; ok {
			out = append(out, AccountMatch{Account: a, By: kind[id]})
		}
	}
	return out, nil
}
