package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nudgehq/nudge"
)

const accountCols = `lender, id, portfolio, borrower_name, borrower_language, borrower_timezone,
    address_country, address_region, address_postal_code, currency, amount_due, due_date, status,
    next_action_at, created_at, updated_at`

const accountColCount = 16

// acctKey identifies an account.
type acctKey struct{ lender, id string }

// UpsertAccounts writes accounts in one transaction: either every account is
// stored or none is. Each account's contacts and holds replace the stored
// ones, except that a contact's learned state (wrong party, undeliverable)
// is kept for the same channel and address unless the account sets one.
// Every account is marked for planning at now. An empty status means active;
// when the batch names an account twice the last one wins, and a contact or
// hold repeated within an account is kept once.
func (db *DB) UpsertAccounts(ctx context.Context, accounts []nudge.Account, now time.Time) error {
	if len(accounts) == 0 {
		return nil
	}
	if now.IsZero() {
		return errors.New("upsert accounts: now is required")
	}
	batch := dedupAccounts(accounts)
	for i := range batch {
		a := &batch[i]
		if a.Lender == "" || a.ID == "" {
			return fmt.Errorf("upsert accounts: account %d: lender and id are required", i)
		}
		if a.Status == "" {
			a.Status = nudge.StatusActive
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		chunk := maxParams / accountColCount
		for start := 0; start < len(batch); start += chunk {
			end := min(start+chunk, len(batch))
			if err := db.upsertAccountChunk(ctx, tx, batch[start:end], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert %d accounts: %w", len(batch), err)
	}
	return nil
}

// RefusedAccount is an account of a batch the database refused to store.
type RefusedAccount struct {
	// Index is the account's position in the batch.
	Index int
	// Field is the account document's field at fault (such as
	// borrower.name, or contacts for a contact) when the database names
	// one; otherwise empty.
	Field string
	// Message is the database's reason, in its own words.
	Message string
	// Err is the refusal as the database driver reported it.
	Err error
}

// errRefusedBatch rolls back a batch in which an account was refused.
var errRefusedBatch = errors.New("an account was refused")

// UpsertAccountsEach writes accounts as UpsertAccounts does, in one
// transaction, except that an account the database refuses (a value out of
// range, a broken constraint) does not stop the others: it is rolled back
// alone, to a savepoint, and reported by its index. Accounts are written a
// chunk at a time; only a chunk with a refusal is written again account by
// account, each under its own savepoint. An account whose lender and id an
// earlier account of the batch already has is refused too.
//
// With keepGood false any refusal rolls back the whole transaction, so
// nothing is written, and every refused account is still reported. An
// error that is not about one account's data (a lost connection, a
// canceled context) rolls back everything and is returned.
func (db *DB) UpsertAccountsEach(ctx context.Context, accounts []nudge.Account, now time.Time, keepGood bool) ([]RefusedAccount, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	if now.IsZero() {
		return nil, errors.New("upsert accounts: now is required")
	}
	var refused []RefusedAccount
	batch := make([]nudge.Account, 0, len(accounts))
	index := make([]int, 0, len(accounts))
	seen := make(map[acctKey]int, len(accounts))
	for i, a := range accounts {
		k := acctKey{a.Lender, a.ID}
		j, dup := seen[k]
		switch {
		case a.Lender == "" || a.ID == "":
			err := errors.New("lender and id are required")
			refused = append(refused, RefusedAccount{Index: i, Field: "id", Message: err.Error(), Err: err})
		case dup:
			err := fmt.Errorf("account %s/%s is also account %d of the batch: %w", a.Lender, a.ID, j, nudge.ErrConflict)
			refused = append(refused, RefusedAccount{Index: i, Field: "id", Message: err.Error(), Err: err})
		default:
			seen[k] = i
			if a.Status == "" {
				a.Status = nudge.StatusActive
			}
			batch = append(batch, a)
			index = append(index, i)
		}
	}
	batch = dedupAccounts(batch) // keys are unique: only contacts and holds change
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		chunk := maxParams / accountColCount
		for start := 0; start < len(batch); start += chunk {
			end := min(start+chunk, len(batch))
			err := db.savepoint(ctx, tx, "accounts_chunk", func() error {
				return db.upsertAccountChunk(ctx, tx, batch[start:end], now)
			})
			if err == nil {
				continue
			}
			if !isRefusal(err) {
				return err
			}
			for i := start; i < end; i++ {
				err := db.savepoint(ctx, tx, "accounts_row", func() error {
					return db.upsertAccountChunk(ctx, tx, batch[i:i+1], now)
				})
				switch {
				case err == nil:
				case isRefusal(err):
					field, msg := refusalOf(err)
					refused = append(refused, RefusedAccount{Index: index[i], Field: field, Message: msg, Err: err})
				default:
					return err
				}
			}
		}
		if len(refused) > 0 && !keepGood {
			return errRefusedBatch
		}
		return nil
	})
	sort.Slice(refused, func(i, j int) bool { return refused[i].Index < refused[j].Index })
	if err != nil && !errors.Is(err, errRefusedBatch) {
		return nil, fmt.Errorf("upsert %d accounts: %w", len(batch), err)
	}
	return refused, nil
}

// savepoint runs fn under a savepoint of tx named name, rolling back to it
// when fn fails; fn's error is returned as is, so it can be classified.
func (db *DB) savepoint(ctx context.Context, tx *sql.Tx, name string, fn func() error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("savepoint %s: %w", name, err)
	}
	if err := fn(); err != nil {
		// When the rollback fails, fn's error is kept as text only: the
		// transaction is lost, whatever fn's error was, so it must not be
		// taken for the refusal of one account.
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("roll back to savepoint %s after %s: %w", name, err.Error(), rerr)
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); rerr != nil {
			return fmt.Errorf("release savepoint %s after %s: %w", name, err.Error(), rerr)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("release savepoint %s: %w", name, err)
	}
	return nil
}

// isRefusal reports whether err is the database refusing the data of a
// statement (a data exception, a broken constraint, a value too large),
// rather than failing for a reason of its own.
func isRefusal(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"): // data exception, integrity constraint violation
			return true
		case pe.Code == "21000", pe.Code == "54000": // cardinality violation, program limit exceeded (an index row too large)
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}

// accountFields maps the columns of the account tables to the fields of
// the account document.
var accountFields = map[string]string{
	"lender": "lender", "id": "id", "account_id": "id", "portfolio": "portfolio",
	"borrower_name": "borrower.name", "borrower_language": "borrower.language", "borrower_timezone": "borrower.timezone",
	"address_country": "address.country", "address_region": "address.region", "address_postal_code": "address.postal_code",
	"currency": "currency", "amount_due": "amount_due", "due_date": "due_date", "status": "status",
}

// sqliteColumn finds "table.column" in a SQLite constraint message.
var sqliteColumn = regexp.MustCompile(`\b(accounts|contacts|holds)\.([a-z_]+)`)

// refusalOf returns the document field a refusal names, if any, and the
// database's message.
func refusalOf(err error) (field, msg string) {
	table, column := "", ""
	var pe *pgconn.PgError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pe):
		table, column, msg = pe.TableName, pe.ColumnName, pe.Message
		if c, ok := strings.CutPrefix(pe.ConstraintName, table+"_"); ok && column == "" {
			// A column's CHECK constraint is named table_column_check.
			if c, ok := strings.CutSuffix(c, "_check"); ok {
				column = c
			}
		}
	case errors.As(err, &se):
		msg = se.Error()
		if m := sqliteColumn.FindStringSubmatch(msg); m != nil {
			table, column = m[1], m[2]
		}
	default:
		msg = err.Error()
	}
	switch table {
	case "contacts", "holds":
		if column != "lender" && column != "account_id" {
			return table, msg
		}
	}
	return accountFields[column], msg
}

// dedupAccounts keeps the last account per key, in first-seen order, with
// contacts unique per channel and address and holds unique per kind.
func dedupAccounts(in []nudge.Account) []nudge.Account {
	pos := make(map[acctKey]int, len(in))
	out := make([]nudge.Account, 0, len(in))
	for _, a := range in {
		k := acctKey{a.Lender, a.ID}
		if i, ok := pos[k]; ok {
			out[i] = a
			continue
		}
		pos[k] = len(out)
		out = append(out, a)
	}
	for i := range out {
		a := &out[i]
		if len(a.Contacts) > 1 {
			type ck struct {
				c    nudge.ChannelKind
				addr string
			}
			seen := map[ck]bool{}
			cs := make([]nudge.Contact, 0, len(a.Contacts))
			for _, c := range a.Contacts {
				if !seen[ck{c.Channel, c.Address}] {
					seen[ck{c.Channel, c.Address}] = true
					cs = append(cs, c)
				}
			}
			a.Contacts = cs
		}
		if len(a.Holds) > 1 {
			seen := map[nudge.HoldKind]bool{}
			hs := make([]nudge.Hold, 0, len(a.Holds))
			for _, h := range a.Holds {
				if !seen[h.Kind] {
					seen[h.Kind] = true
					hs = append(hs, h)
				}
			}
			a.Holds = hs
		}
	}
	return out
}

func (db *DB) upsertAccountChunk(ctx context.Context, tx *sql.Tx, accts []nudge.Account, now time.Time) error {
	args := make([]any, 0, len(accts)*accountColCount)
	for _, a := range accts {
		var country, region, postal any
		if a.Address != nil {
			country, region, postal = a.Address.Country, a.Address.Region, a.Address.PostalCode
		}
		args = append(args, a.Lender, a.ID, a.Portfolio, a.Borrower.Name, a.Borrower.Language, a.Borrower.Timezone,
			country, region, postal, a.Currency, a.AmountDue, dv(a.DueDate), string(a.Status),
			db.tv(now), db.tv(now), db.tv(now))
	}
	q := `INSERT INTO accounts (` + accountCols + `) VALUES ` + valuesRows(len(accts), accountColCount) + `
ON CONFLICT (lender, id) DO UPDATE SET
    portfolio = excluded.portfolio, borrower_name = excluded.borrower_name,
    borrower_language = excluded.borrower_language, borrower_timezone = excluded.borrower_timezone,
    address_country = excluded.address_country, address_region = excluded.address_region,
    address_postal_code = excluded.address_postal_code, currency = excluded.currency,
    amount_due = excluded.amount_due, due_date = excluded.due_date, status = excluded.status,
    next_action_at = excluded.next_action_at, updated_at = excluded.updated_at`
	if _, err := db.exec(ctx, tx, q, args...); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}

	// Learned contact states, kept across the replacement below.
	type ckey struct {
		lender, id, channel, address string
	}
	states := map[ckey]string{}
	groups := groupByLender(accts)
	for _, g := range groups {
		err := db.eachIDChunk(g.ids, 1, func(ids []any) error {
			rows, err := db.query(ctx, tx, `SELECT account_id, channel, address, state FROM contacts
WHERE lender = ? AND state <> '' AND account_id IN (`+placeholders(len(ids))+`)`, append([]any{g.lender}, ids...)...)
			if err != nil {
				return fmt.Errorf("read contact states: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var k ckey
				var st string
				if err := rows.Scan(&k.id, &k.channel, &k.address, &st); err != nil {
					return fmt.Errorf("read contact states: %w", err)
				}
				k.lender = g.lender
				states[k] = st
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		err = db.eachIDChunk(g.ids, 1, func(ids []any) error {
			largs := append([]any{g.lender}, ids...)
			if _, err := db.exec(ctx, tx, `DELETE FROM contacts WHERE lender = ? AND account_id IN (`+placeholders(len(ids))+`)`, largs...); err != nil {
				return fmt.Errorf("replace contacts: %w", err)
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM holds WHERE lender = ? AND account_id IN (`+placeholders(len(ids))+`)`, largs...); err != nil {
				return fmt.Errorf("replace holds: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}

	const contactCols = 8
	var cargs []any
	flushContacts := func() error {
		if len(cargs) == 0 {
			return nil
		}
		q := `INSERT INTO contacts (lender, account_id, position, channel, address, consent, workplace, state) VALUES ` +
			valuesRows(len(cargs)/contactCols, contactCols)
		if _, err := db.exec(ctx, tx, q, cargs...); err != nil {
			return fmt.Errorf("write contacts: %w", err)
		}
		cargs = cargs[:0]
		return nil
	}
	const holdCols = 6
	var hargs []any
	flushHolds := func() error {
		if len(hargs) == 0 {
			return nil
		}
		q := `INSERT INTO holds (lender, account_id, position, kind, reason, created_at) VALUES ` +
			valuesRows(len(hargs)/holdCols, holdCols)
		if _, err := db.exec(ctx, tx, q, hargs...); err != nil {
			return fmt.Errorf("write holds: %w", err)
		}
		hargs = hargs[:0]
		return nil
	}
	for _, a := range accts {
		for i, c := range a.Contacts {
			st := string(c.State)
			if st == "" {
				st = states[ckey{a.Lender, a.ID, string(c.Channel), c.Address}]
			}
			cargs = append(cargs, a.Lender, a.ID, i, string(c.Channel), c.Address, c.Consent, c.Workplace, st)
			if len(cargs)+contactCols > maxParams {
				if err := flushContacts(); err != nil {
					return err
				}
			}
		}
		for i, h := range a.Holds {
			hargs = append(hargs, a.Lender, a.ID, i, string(h.Kind), h.Reason, db.tv(now))
			if len(hargs)+holdCols > maxParams {
				if err := flushHolds(); err != nil {
					return err
				}
			}
		}
	}
	if err := flushContacts(); err != nil {
		return err
	}
	return flushHolds()
}

type lenderGroup struct {
	lender string
	ids    []string
}

// groupByLender groups account ids by lender, lenders sorted.
func groupByLender(accts []nudge.Account) []lenderGroup {
	idx := map[string]int{}
	var out []lenderGroup
	for _, a := range accts {
		i, ok := idx[a.Lender]
		if !ok {
			i = len(out)
			idx[a.Lender] = i
			out = append(out, lenderGroup{lender: a.Lender})
		}
		out[i].ids = append(out[i].ids, a.ID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lender < out[j].lender })
	return out
}

// eachIDChunk calls fn with ids split into chunks that fit one statement
// alongside extra other parameters.
func (db *DB) eachIDChunk(ids []string, extra int, fn func(ids []any) error) error {
	size := maxParams - extra
	for start := 0; start < len(ids); start += size {
		end := min(start+size, len(ids))
		chunk := make([]any, 0, end-start)
		for _, id := range ids[start:end] {
			chunk = append(chunk, id)
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// scanAccount scans one row of accountCols (without contacts or holds).
func (db *DB) scanAccount(s interface{ Scan(...any) error }) (nudge.Account, error) {
	var (
		a                        nudge.Account
		country, region, postal  sql.NullString
		status                   string
		nextAt, created, updated time.Time
	)
	err := s.Scan(&a.Lender, &a.ID, &a.Portfolio, &a.Borrower.Name, &a.Borrower.Language, &a.Borrower.Timezone,
		&country, &region, &postal, &a.Currency, &a.AmountDue, dateCol{&a.DueDate}, &status,
		timeCol{&nextAt}, timeCol{&created}, timeCol{&updated})
	if err != nil {
		return nudge.Account{}, err
	}
	db.rowsRead.Add(1)
	if country.Valid {
		a.Address = &nudge.Address{Country: country.String, Region: region.String, PostalCode: postal.String}
	}
	a.Status = nudge.AccountStatus(status)
	a.NextActionAt = nextAt
	return a, nil
}

// loadAccounts runs an accounts query (selecting accountCols) and fills in
// every account's contacts and holds with one query per lender and chunk.
func (db *DB) loadAccounts(ctx context.Context, q querier, query string, args ...any) ([]nudge.Account, error) {
	rows, err := db.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	var out []nudge.Account
	for rows.Next() {
		a, err := db.scanAccount(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	if err := db.fillContactsAndHolds(ctx, q, out); err != nil {
		return nil, err
	}
	return out, nil
}

// contactsAndHoldsQuery reads the contacts and holds of one lender's
// accounts in one round trip; in is the accounts' placeholders, and the
// arguments are the lender and the ids, twice.
func contactsAndHoldsQuery(in string) string {
	return `SELECT 0 AS src, account_id, position, channel, address, consent, workplace, state
FROM contacts WHERE lender = ? AND account_id IN (` + in + `)
UNION ALL
SELECT 1, account_id, position, kind, reason, FALSE, FALSE, '' FROM holds WHERE lender = ? AND account_id IN (` + in + `)
ORDER BY 1, 2, 3`
}

// scanContactOrHold scans one row of contactsAndHoldsQuery into the
// account that of returns for its id.
func scanContactOrHold(s interface{ Scan(...any) error }, of func(id string) *nudge.Account) error {
	var (
		src, position            int
		id, first, second, state string
		consent, workplace       bool
	)
	if err := s.Scan(&src, &id, &position, &first, &second, &consent, &workplace, &state); err != nil {
		return err
	}
	a := of(id)
	if src == 0 {
		a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.ChannelKind(first), Address: second,
			Consent: consent, Workplace: workplace, State: nudge.ContactState(state)})
	} else {
		a.Holds = append(a.Holds, nudge.Hold{Kind: nudge.HoldKind(first), Reason: second})
	}
	return nil
}

func (db *DB) fillContactsAndHolds(ctx context.Context, q querier, accts []nudge.Account) error {
	idx := make(map[acctKey]int, len(accts))
	for i, a := range accts {
		idx[acctKey{a.Lender, a.ID}] = i
		// Empty, not nil: an account with no contacts or holds marshals as [].
		accts[i].Contacts = []nudge.Contact{}
		accts[i].Holds = []nudge.Hold{}
	}
	for _, g := range groupByLender(accts) {
		// Contacts and holds in one round trip: the ids appear twice, so a
		// chunk holds at most half the parameters.
		err := db.eachIDChunk(g.ids, maxParams/2+1, func(ids []any) error {
			args := append(append(append([]any{g.lender}, ids...), g.lender), ids...)
			in := placeholders(len(ids))
			rows, err := db.query(ctx, q, contactsAndHoldsQuery(in), args...)
			if err != nil {
				return fmt.Errorf("load contacts and holds: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				if err := scanContactOrHold(rows, func(id string) *nudge.Account { return &accts[idx[acctKey{g.lender, id}]] }); err != nil {
					return fmt.Errorf("load contacts and holds: %w", err)
				}
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("load contacts and holds: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// GetAccount returns the lender's account with its contacts and holds, or
// nudge.ErrNotFound.
func (db *DB) GetAccount(ctx context.Context, lender, id string) (nudge.Account, error) {
	accts, err := db.loadAccounts(ctx, db.read, `SELECT `+accountCols+` FROM accounts WHERE lender = ? AND id = ?`, lender, id)
	if err != nil {
		return nudge.Account{}, fmt.Errorf("get account %s/%s: %w", lender, id, err)
	}
	if len(accts) == 0 {
		return nudge.Account{}, fmt.Errorf("account %s/%s: %w", lender, id, nudge.ErrNotFound)
	}
	return accts[0], nil
}

// GetAccounts returns those of the lender's accounts ids names that exist,
// with their contacts and holds, in no particular order: one read of the
// accounts and one of their contacts and holds (per chunk of ids).
func (db *DB) GetAccounts(ctx context.Context, lender string, ids []string) ([]nudge.Account, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []nudge.Account
	err := db.eachIDChunk(ids, 1, func(chunk []any) error {
		accts, err := db.loadAccounts(ctx, db.read, `SELECT `+accountCols+` FROM accounts WHERE lender = ? AND id IN (`+placeholders(len(chunk))+`)`,
			append([]any{lender}, chunk...)...)
		out = append(out, accts...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %d accounts of %s: %w", len(ids), lender, err)
	}
	return out, nil
}

// dueAccountsQuery reads due accounts in next_action_at index order.
const dueAccountsQuery = `SELECT ` + accountCols + ` FROM accounts
WHERE next_action_at IS NOT NULL AND next_action_at <= ?
ORDER BY next_action_at, lender, id LIMIT ?`

// DueAccounts returns up to limit accounts of every lender whose next action
// is at or before at, earliest first. It reads through the next_action_at
// index, so its cost grows with what is due, not with the portfolio.
func (db *DB) DueAccounts(ctx context.Context, at time.Time, limit int) ([]nudge.Account, error) {
	if limit <= 0 {
		return nil, nil
	}
	accts, err := db.loadAccounts(ctx, db.read, dueAccountsQuery, db.tv(at), limit)
	if err != nil {
		return nil, fmt.Errorf("due accounts at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return accts, nil
}

// SetNextAction sets when the account next needs planning; a zero time means
// never. It returns nudge.ErrNotFound when the lender has no such account.
func (db *DB) SetNextAction(ctx context.Context, lender, id string, at time.Time) error {
	return db.updateAccount(ctx, "set next action", lender, id, `UPDATE accounts SET next_action_at = ? WHERE lender = ? AND id = ?`,
		db.tv(at), lender, id)
}

// SetAccountStatus changes the account's status. It returns
// nudge.ErrNotFound when the lender has no such account.
func (db *DB) SetAccountStatus(ctx context.Context, lender, id string, status nudge.AccountStatus, now time.Time) error {
	if !status.Valid() {
		return fmt.Errorf("set account status %s/%s: unknown status %q", lender, id, status)
	}
	return db.updateAccount(ctx, "set account status", lender, id, `UPDATE accounts SET status = ?, updated_at = ? WHERE lender = ? AND id = ?`,
		string(status), db.tv(now), lender, id)
}

func (db *DB) updateAccount(ctx context.Context, what, lender, id, query string, args ...any) error {
	res, err := db.exec(ctx, db.write, query, args...)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", what, lender, id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", what, lender, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: account %s/%s: %w", what, lender, id, nudge.ErrNotFound)
	}
	return nil
}

// AddHold sets a hold on the account, replacing the reason of a hold of the
// same kind. It returns nudge.ErrNotFound when the lender has no such account.
// events (the hold's) are appended in the same transaction when the hold is
// new or its reason changed, so a repeated call records nothing twice.
func (db *DB) AddHold(ctx context.Context, lender, id string, h nudge.Hold, now time.Time, events ...nudge.Event) error {
	if !h.Kind.Valid() && h.Kind != nudge.HoldPaymentClaimed {
		return fmt.Errorf("add hold to %s/%s: unknown hold kind %q", lender, id, h.Kind)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var next int
		err := db.queryRow(ctx, tx, `SELECT COALESCE((SELECT MAX(position) + 1 FROM holds WHERE lender = ? AND account_id = ?), 0)
FROM accounts WHERE lender = ? AND id = ?`+db.forUpdate(), lender, id, lender, id).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("account %s/%s: %w", lender, id, nudge.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var had string
		err = db.queryRow(ctx, tx, `SELECT reason FROM holds WHERE lender = ? AND account_id = ? AND kind = ?`,
			lender, id, string(h.Kind)).Scan(&had)
		changed := errors.Is(err, sql.ErrNoRows) || (err == nil && had != h.Reason)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO holds (lender, account_id, position, kind, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (lender, account_id, kind) DO UPDATE SET reason = excluded.reason`,
			lender, id, next, string(h.Kind), h.Reason, db.tv(now)); err != nil {
			return err
		}
		if _, err = db.exec(ctx, tx, `UPDATE accounts SET updated_at = ? WHERE lender = ? AND id = ?`, db.tv(now), lender, id); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("add %s hold to %s/%s: %w", h.Kind, lender, id, err)
	}
	return nil
}

// ClearHold removes the account's hold of kind; clearing a hold the account
// does not carry does nothing. It returns nudge.ErrNotFound when the lender
// has no such account. events (the clearing's) are appended in the same
// transaction when a hold was removed.
func (db *DB) ClearHold(ctx context.Context, lender, id string, kind nudge.HoldKind, now time.Time, events ...nudge.Event) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE accounts SET updated_at = ? WHERE lender = ? AND id = ?`, db.tv(now), lender, id)
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("account %s/%s: %w", lender, id, nudge.ErrNotFound)
		}
		res, err = db.exec(ctx, tx, `DELETE FROM holds WHERE lender = ? AND account_id = ? AND kind = ?`, lender, id, string(kind))
		if err != nil {
			return err
		}
		if n, err = rowsAffected(res); err != nil || n == 0 {
			return err
		}
		return db.appendEvents(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("clear %s hold of %s/%s: %w", kind, lender, id, err)
	}
	return nil
}

// SetContactState records what Nudge learned about one of the account's
// addresses. It returns nudge.ErrNotFound when the account has no such contact.
func (db *DB) SetContactState(ctx context.Context, lender, id string, channel nudge.ChannelKind, address string, state nudge.ContactState) error {
	switch state {
	case nudge.ContactOK, nudge.ContactWrongParty, nudge.ContactUndeliverable:
	default:
		return fmt.Errorf("set contact state of %s/%s: unknown state %q", lender, id, state)
	}
	res, err := db.exec(ctx, db.write, `UPDATE contacts SET state = ? WHERE lender = ? AND account_id = ? AND channel = ? AND address = ?`,
		string(state), lender, id, string(channel), address)
	if err != nil {
		return fmt.Errorf("set contact state of %s/%s: %w", lender, id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("set contact state of %s/%s: %w", lender, id, err)
	}
	if n == 0 {
		return fmt.Errorf("contact %s of %s/%s: %w", channel, lender, id, nudge.ErrNotFound)
	}
	return nil
}

// AccountsByAddress returns the accounts, of any lender, with a contact at
// address on channel, ordered by lender and id.
func (db *DB) AccountsByAddress(ctx context.Context, channel nudge.ChannelKind, address string) ([]nudge.Account, error) {
	accts, err := db.loadAccounts(ctx, db.read, `SELECT `+accountCols+` FROM accounts
WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.lender = accounts.lender AND c.account_id = accounts.id AND c.channel = ? AND c.address = ?)
ORDER BY lender, id`, string(channel), address)
	if err != nil {
		return nil, fmt.Errorf("accounts by %s address: %w", channel, err)
	}
	return accts, nil
}
