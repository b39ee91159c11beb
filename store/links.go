package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// ExpiredLinkRetention is how long an expired link token is kept, so that
// its link still answers with the lender's "this link has expired" page
// rather than as an unknown one. Issuing a token deletes a few that are
// older.
const ExpiredLinkRetention = 30 * 24 * time.Hour

// linkPurgeBatch bounds how many old tokens one issue deletes, and
// linkPurgeEvery how long issues go without deleting after a purge that
// found fewer: a store that is behind purges with every batch of issues, one
// that has caught up looks again a minute (of issue times) later.
const (
	linkPurgeBatch = 100
	linkPurgeEvery = time.Minute
)

var _ link.Store = (*DB)(nil)

const linkCols = `token, purpose, lender, account_id, channel, address, attempt_id, created_at, expires_at`

func scanLink(s interface{ Scan(...any) error }) (link.Link, error) {
	var (
		l                link.Link
		purpose, channel string
	)
	err := s.Scan(&l.Token, &purpose, &l.Lender, &l.AccountID, &channel, &l.Address, &l.Attempt,
		timeCol{&l.CreatedAt}, timeCol{&l.ExpiresAt})
	l.Purpose, l.Channel = link.Purpose(purpose), nudge.ChannelKind(channel)
	return l, err
}

// IssueLink implements link.Store: it returns the newest stored token with
// l's purpose, lender, account, channel, address and attempt that expires at
// or after reuseFrom (never expires, when l.ExpiresAt is zero); when there is
// none it stores l, deleting up to linkPurgeBatch tokens expired more than
// ExpiredLinkRetention ago. A token is issued only while l.Address is still
// one of the account's contacts (or l has no address): once the borrower's
// data is erased no new link can name them.
//
// Concurrent issues share their work (db.links): most renders find a live
// token, so the live tokens of every issue are read first in one statement,
// without a lock; the issues that found none share one transaction, with
// every account's lock in one statement, the contacts and the live tokens
// in one each, and the new tokens in one insert.
func (db *DB) IssueLink(ctx context.Context, l link.Link, reuseFrom time.Time) (link.Link, error) {
	switch {
	case !l.Purpose.Valid():
		return link.Link{}, fmt.Errorf("issue link: unknown purpose %q", l.Purpose)
	case !link.ValidToken(l.Token):
		return link.Link{}, errors.New("issue link: malformed token")
	case l.Lender == "" || l.AccountID == "":
		return link.Link{}, errors.New("issue link: lender and account are required")
	case l.CreatedAt.IsZero():
		return link.Link{}, errors.New("issue link: created at is required")
	}
	res := db.links.Do(ctx, linkIssue{l, reuseFrom})
	if res.err != nil {
		return link.Link{}, fmt.Errorf("issue %s link for %s/%s: %w", l.Purpose, l.Lender, l.AccountID, res.err)
	}
	return res.link, nil
}

// linkIssue is one IssueLink waiting for its batch, and linkIssued its
// result.
type (
	linkIssue struct {
		l         link.Link
		reuseFrom time.Time
	}
	linkIssued struct {
		link link.Link
		err  error
	}
)

// issueLinks answers a batch of IssueLink calls: each issue with a live
// token gets it, read in one statement without a lock (in the read batch of
// whoever else reads at the moment); the others are stored by storeLinks.
func (db *DB) issueLinks(ctx context.Context, issues []linkIssue) []linkIssued {
	out := make([]linkIssued, len(issues))
	var found []link.Link
	if err := db.readBatch(ctx, db.liveLinksQuery(issues, &found)); err != nil {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	var (
		rest []linkIssue
		at   []int // rest[k] is issues[at[k]]
	)
	for i, is := range issues {
		if got, ok := newestLive(found, is.l, is.reuseFrom); ok {
			out[i].link = got
		} else {
			rest, at = append(rest, is), append(at, i)
		}
	}
	if len(rest) > 0 {
		for k, r := range db.storeLinks(ctx, rest) {
			out[at[k]] = r
		}
	}
	return out
}

// storeLinks stores the links of a batch of issues in one transaction, or
// finds a live token stored meanwhile (by another process, or by an earlier
// issue of the batch). A link whose address is no contact of its account
// fails alone.
func (db *DB) storeLinks(ctx context.Context, issues []linkIssue) []linkIssued {
	out := make([]linkIssued, len(issues))
	keys := make([]string, len(issues))
	for i, is := range issues {
		keys[i] = "link:" + is.l.Lender + "/" + is.l.AccountID
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var err error
	if db.backend == Postgres {
		err = db.issueLinksPiped(ctx, issues, keys, out)
	} else {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.lockAll(ctx, tx, keys...); err != nil {
				return err
			}
			contacts := map[string]bool{}
			if q, ok := db.contactsQuery(issues, contacts); ok {
				if err := db.readEachIn(ctx, tx, q); err != nil {
					return err
				}
			}
			var live []link.Link
			if err := db.readEachIn(ctx, tx, db.liveLinksQuery(issues, &live)); err != nil {
				return err
			}
			insert := decideLinks(issues, contacts, live, out)
			if len(insert) == 0 {
				return nil
			}
			if err := db.runIn(ctx, tx, db.insertLinksQuery(insert)); err != nil {
				return err
			}
			return db.purgeLinks(ctx, tx, insert[0].CreatedAt)
		})
	}
	if err != nil {
		for i := range out {
			out[i] = linkIssued{err: err}
		}
	}
	return out
}

// issueLinksPiped is issueLinks in a pipelined transaction (PostgreSQL) of
// two round trips: BEGIN, the accounts' locks, the contacts and the live
// tokens in the first; the new tokens, the purge and COMMIT in the second.
func (db *DB) issueLinksPiped(ctx context.Context, issues []linkIssue, keys []string, out []linkIssued) error {
	var (
		purge  bool
		now    time.Time
		purged int
	)
	err := db.inPipeTx(ctx, false, func(tx *pipeTx) ([]readQuery, error) {
		contacts := map[string]bool{}
		var live []link.Link
		first := []readQuery{lockAllQuery(keys)}
		if q, ok := db.contactsQuery(issues, contacts); ok {
			first = append(first, q)
		}
		if err := tx.send(ctx, append(first, db.liveLinksQuery(issues, &live))...); err != nil {
			return nil, err
		}
		insert := decideLinks(issues, contacts, live, out)
		if len(insert) == 0 {
			return nil, nil
		}
		last := []readQuery{db.insertLinksQuery(insert)}
		now = insert[0].CreatedAt
		if purge = db.linkPurgeDue(now); purge {
			last = append(last, readQuery{name: "purge links", sql: `DELETE FROM link_tokens WHERE token IN
(SELECT token FROM link_tokens WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?) RETURNING token`,
				args: []any{db.tv(now.Add(-ExpiredLinkRetention)), linkPurgeBatch},
				row: func(s interface{ Scan(...any) error }) error {
					purged++
					var token string
					return s.Scan(&token)
				}})
		}
		return last, nil
	})
	if err == nil && purge {
		db.linkPurged(now, purged)
	}
	return err
}

// decideLinks sets the result of each issue whose address is no contact of
// its account, or that finds a live token (in live, or issued earlier in
// the batch), and returns the links to store.
func decideLinks(issues []linkIssue, contacts map[string]bool, live []link.Link, out []linkIssued) []link.Link {
	var insert []link.Link
	for i, is := range issues {
		l := is.l
		if l.Address != "" && !contacts[l.Lender+"\x00"+l.AccountID+"\x00"+l.Address] {
			out[i].err = fmt.Errorf("the address is not a contact of the account: %w", nudge.ErrNotFound)
			continue
		}
		if got, ok := newestLive(live, l, is.reuseFrom); ok {
			out[i].link = got
			continue
		}
		out[i].link = l
		live = append(live, l)
		insert = append(insert, l)
	}
	return insert
}

// insertLinksQuery stores links in one statement.
func (db *DB) insertLinksQuery(links []link.Link) readQuery {
	if db.backend == Postgres {
		// Over column arrays: one statement text for any number of links.
		n := len(links)
		token, purpose, lender, account, channel, address, attempt := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		created, expires := make([]*time.Time, n), make([]*time.Time, n)
		for i, l := range links {
			token[i], purpose[i], lender[i], account[i], channel[i], address[i], attempt[i] = l.Token, string(l.Purpose), l.Lender,
				l.AccountID, string(l.Channel), l.Address, l.Attempt
			created[i], expires[i] = pgTime(l.CreatedAt), pgTime(l.ExpiresAt)
		}
		return readQuery{name: "insert links", sql: `INSERT INTO link_tokens (` + linkCols + `)
SELECT ` + linkCols + ` FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::timestamptz[]) AS v (` + linkCols + `)`,
			args: []any{token, purpose, lender, account, channel, address, attempt, created, expires}}
	}
	args := make([]any, 0, 9*len(links))
	for _, l := range links {
		args = append(args, l.Token, string(l.Purpose), l.Lender, l.AccountID, string(l.Channel), l.Address, l.Attempt,
			db.tv(l.CreatedAt), db.tv(l.ExpiresAt))
	}
	return readQuery{name: "insert links", sql: `INSERT INTO link_tokens (` + linkCols + `) VALUES ` + valuesRows(len(links), 9), args: args}
}

// linkPurgeDue reports whether issuing links at now deletes expired ones:
// unless the last purge, less than linkPurgeEvery before now, found fewer
// than linkPurgeBatch.
func (db *DB) linkPurgeDue(now time.Time) bool {
	next := db.nextLinkPurge.Load()
	return next == 0 || now.UnixNano() >= next
}

// linkPurged records a purge at now that deleted n tokens.
func (db *DB) linkPurged(now time.Time, n int) {
	if n < linkPurgeBatch {
		db.nextLinkPurge.Store(now.Add(linkPurgeEvery).UnixNano())
	} else {
		db.nextLinkPurge.Store(0)
	}
}

// purgeLinks deletes up to linkPurgeBatch tokens expired more than
// ExpiredLinkRetention before now, when linkPurgeDue.
func (db *DB) purgeLinks(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if !db.linkPurgeDue(now) {
		return nil
	}
	res, err := db.exec(ctx, tx, `DELETE FROM link_tokens WHERE token IN
(SELECT token FROM link_tokens WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?)`,
		db.tv(now.Add(-ExpiredLinkRetention)), linkPurgeBatch)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil {
		db.linkPurged(now, int(n))
	} else {
		db.nextLinkPurge.Store(0)
	}
	return nil
}

// contactsQuery reads the contacts of the issues' accounts into found,
// keyed by lender, account and address; false when no issue has an
// address. It names the accounts alone, not the addresses as well: an
// account has a few contacts, and with both lists PostgreSQL's index scan
// descends once for every pair of an account and an address (the lists'
// product), or its custom plan reads the whole table instead. An address
// that is not an issue's is never looked up in found.
func (db *DB) contactsQuery(issues []linkIssue, found map[string]bool) (readQuery, bool) {
	var lenders, accounts []any
	for _, is := range issues {
		if is.l.Address != "" {
			lenders, accounts = append(lenders, is.l.Lender), append(accounts, is.l.AccountID)
		}
	}
	if len(accounts) == 0 {
		return readQuery{}, false
	}
	lenderIn, lenderArgs := db.inList("lender", compactAny(lenders))
	accountIn, accountArgs := db.inList("account_id", compactAny(accounts))
	return readQuery{name: "contacts", sql: `SELECT lender, account_id, address FROM contacts
WHERE ` + lenderIn + ` AND ` + accountIn, args: append(append([]any{}, lenderArgs...), accountArgs...),
		row: func(s interface{ Scan(...any) error }) error {
			var lender, account, address string
			if err := s.Scan(&lender, &account, &address); err != nil {
				return err
			}
			found[lender+"\x00"+account+"\x00"+address] = true
			return nil
		}}, true
}

// liveLinksQuery reads the tokens of the issues' lenders, accounts and
// purposes that never expire or expire at or after the earliest reuseFrom
// (none, when every issue is of a token that never expires) into found;
// newestLive picks each issue's.
func (db *DB) liveLinksQuery(issues []linkIssue, found *[]link.Link) readQuery {
	var lenders, accounts, purposes []any
	var from time.Time
	for _, is := range issues {
		lenders, accounts, purposes = append(lenders, is.l.Lender), append(accounts, is.l.AccountID), append(purposes, string(is.l.Purpose))
		if !is.reuseFrom.IsZero() && (from.IsZero() || is.reuseFrom.Before(from)) {
			from = is.reuseFrom
		}
	}
	lenderIn, lenderArgs := db.inList("lender", compactAny(lenders))
	accountIn, accountArgs := db.inList("account_id", compactAny(accounts))
	purposeIn, purposeArgs := db.inList("purpose", compactAny(purposes))
	args := append(append(append([]any{}, lenderArgs...), accountArgs...), purposeArgs...)
	return readQuery{name: "live links", sql: `SELECT ` + linkCols + ` FROM link_tokens
WHERE ` + lenderIn + ` AND ` + accountIn + `
  AND ` + purposeIn + ` AND (expires_at IS NULL OR expires_at >= ?)`,
		args: append(args, db.tv(from)),
		row: func(s interface{ Scan(...any) error }) error {
			l, err := scanLink(s)
			*found = append(*found, l)
			return err
		}}
}

// newestLive returns the token among found with l's purpose, lender,
// account, channel, address and attempt: one that never expires when l does
// not (l.ExpiresAt zero), and otherwise the one expiring last, at or after
// reuseFrom.
func newestLive(found []link.Link, l link.Link, reuseFrom time.Time) (link.Link, bool) {
	var (
		best link.Link
		ok   bool
	)
	for _, f := range found {
		if f.Purpose != l.Purpose || f.Lender != l.Lender || f.AccountID != l.AccountID || f.Channel != l.Channel ||
			f.Attempt != l.Attempt || f.Address != l.Address || f.ExpiresAt.IsZero() != l.ExpiresAt.IsZero() {
			continue
		}
		if !f.ExpiresAt.IsZero() && (f.ExpiresAt.Before(reuseFrom) || (ok && !f.ExpiresAt.After(best.ExpiresAt))) {
			continue
		}
		best, ok = f, true
	}
	return best, ok
}

// GetLink implements link.Store: the token's link, or nudge.ErrNotFound.
func (db *DB) GetLink(ctx context.Context, token string) (link.Link, error) {
	l, err := scanLink(db.queryRow(ctx, db.read, `SELECT `+linkCols+` FROM link_tokens WHERE token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return link.Link{}, fmt.Errorf("link %s: %w", link.Mask(token), nudge.ErrNotFound)
	}
	if err != nil {
		return link.Link{}, fmt.Errorf("link %s: %w", link.Mask(token), err)
	}
	return l, nil
}

// RevokeLinks deletes every link token of the lender's account and returns
// how many there were; the links then answer as unknown ones do. Erasure
// does this in its own transaction.
func (db *DB) RevokeLinks(ctx context.Context, lender, accountID string) (int, error) {
	res, err := db.exec(ctx, db.write, `DELETE FROM link_tokens WHERE lender = ? AND account_id = ?`, lender, accountID)
	if err != nil {
		return 0, fmt.Errorf("revoke links of %s/%s: %w", lender, accountID, err)
	}
	n, err := rowsAffected(res)
	return int(n), err
}
