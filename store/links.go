package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// ExpiredLinkRetention is how long an expired link token is kept, so that
// its link still answers with the lender's "this link has expired" page
// rather than as an unknown one. Issuing a token deletes a few that are
// older.
const ExpiredLinkRetention = 30 * 24 * time.Hour

// linkPurgeBatch bounds how many old tokens one issue deletes.
const linkPurgeBatch = 100

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
	// Most renders find a live token: read it without taking the write lock.
	if found, err := db.reusableLink(ctx, db.read, l, reuseFrom); err == nil {
		return found, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return link.Link{}, fmt.Errorf("issue %s link for %s/%s: %w", l.Purpose, l.Lender, l.AccountID, err)
	}
	out := l
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lock(ctx, tx, "link:"+l.Lender+"/"+l.AccountID); err != nil {
			return err
		}
		if l.Address != "" {
			var n int
			if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM contacts WHERE lender = ? AND account_id = ? AND address = ?`,
				l.Lender, l.AccountID, l.Address).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("the address is not a contact of the account: %w", nudge.ErrNotFound)
			}
		}
		found, err := db.reusableLink(ctx, tx, l, reuseFrom)
		if err == nil {
			out = found
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO link_tokens (`+linkCols+`) VALUES (`+placeholders(9)+`)`,
			l.Token, string(l.Purpose), l.Lender, l.AccountID, string(l.Channel), l.Address, l.Attempt,
			db.tv(l.CreatedAt), db.tv(l.ExpiresAt)); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `DELETE FROM link_tokens WHERE token IN
(SELECT token FROM link_tokens WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?)`,
			db.tv(l.CreatedAt.Add(-ExpiredLinkRetention)), linkPurgeBatch)
		return err
	})
	if err != nil {
		return link.Link{}, fmt.Errorf("issue %s link for %s/%s: %w", l.Purpose, l.Lender, l.AccountID, err)
	}
	return out, nil
}

// reusableLink returns the newest stored token with l's purpose, lender,
// account, channel, address and attempt that expires at or after reuseFrom
// (never expires, when l.ExpiresAt is zero), or sql.ErrNoRows.
func (db *DB) reusableLink(ctx context.Context, q querier, l link.Link, reuseFrom time.Time) (link.Link, error) {
	query := `SELECT ` + linkCols + ` FROM link_tokens
WHERE lender = ? AND account_id = ? AND purpose = ? AND channel = ? AND attempt_id = ? AND address = ?`
	args := []any{l.Lender, l.AccountID, string(l.Purpose), string(l.Channel), l.Attempt, l.Address}
	if l.ExpiresAt.IsZero() {
		query += ` AND expires_at IS NULL`
	} else {
		query += ` AND expires_at >= ? ORDER BY expires_at DESC`
		args = append(args, db.tv(reuseFrom))
	}
	return scanLink(db.queryRow(ctx, q, query+` LIMIT 1`, args...))
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
