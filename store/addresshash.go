package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// Option tunes a DB at Open.
type Option func(*DB)

// addressKeyLabel names the key of opt-out address hashes among the keys
// derived from the deployment's secret.
const addressKeyLabel = "nudge/store/opt-out-address/v1"

// WithSecret keys opt-out address hashes with a key derived (HKDF-SHA256)
// from the deployment's secret, and makes Migrate re-key plain hashes whose
// address is still stored. Every role of a deployment opens its store with
// it. A store opened without it (tests, tools) hashes as stores did before
// migration 0005, with a plain SHA-256 marked unkeyed: a store with the
// secret still finds those opt-outs, and re-keys them.
func WithSecret(secret []byte) Option {
	return func(db *DB) {
		if len(secret) > 0 {
			db.addrKey, db.secret = link.DeriveKey(secret, addressKeyLabel), true
		}
	}
}

// AddressHash returns the hex HMAC-SHA256 of the normalised address under
// the store's key: what identifies an opt-out after the address itself has
// been erased. Without the deployment's secret it cannot be reversed by
// trying every number. A store opened without WithSecret returns the plain
// AddressHash.
func (db *DB) AddressHash(channel nudge.ChannelKind, address string) string {
	if !db.secret {
		return AddressHash(channel, address)
	}
	m := hmac.New(sha256.New, db.addrKey)
	m.Write([]byte(NormalizeAddress(channel, address)))
	return hex.EncodeToString(m.Sum(nil))
}

// AddressHash returns the hex SHA-256 of the normalised address: the
// unkeyed hash opt-outs were stored under before migration 0005, which
// anyone can reverse by trying every number of an area code. The store
// uses it only to find and re-key those old hashes and to scrub them on
// erasure; anything written from now on should name an address by
// DB.AddressHash.
func AddressHash(channel nudge.ChannelKind, address string) string {
	sum := sha256.Sum256([]byte(NormalizeAddress(channel, address)))
	return hex.EncodeToString(sum[:])
}

// rekeyOptOut turns the lender's plain-hash opt-out of address on channel
// into a keyed one, or drops it when a keyed one exists already, and
// reports whether there was one.
func (db *DB) rekeyOptOut(ctx context.Context, q querier, lender string, channel nudge.ChannelKind, address string) (bool, error) {
	if !db.secret {
		return false, nil // no key to re-key with
	}
	plain, keyed := AddressHash(channel, address), db.AddressHash(channel, address)
	res, err := db.exec(ctx, q, `DELETE FROM opt_outs WHERE lender = ? AND channel = ? AND address_hash = ? AND keyed = FALSE
AND EXISTS (SELECT 1 FROM opt_outs k WHERE k.lender = ? AND k.channel = ? AND k.address_hash = ?)`,
		lender, string(channel), plain, lender, string(channel), keyed)
	if err != nil {
		return false, fmt.Errorf("re-key %s opt-out for %s: %w", channel, lender, err)
	}
	dropped, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	res, err = db.exec(ctx, q, `UPDATE opt_outs SET address_hash = ?, keyed = TRUE
WHERE lender = ? AND channel = ? AND address_hash = ? AND keyed = FALSE`, keyed, lender, string(channel), plain)
	if err != nil {
		return false, fmt.Errorf("re-key %s opt-out for %s: %w", channel, lender, err)
	}
	moved, err := rowsAffected(res)
	return dropped+moved > 0, err
}

// RekeyOptOuts re-keys every plain-hash opt-out whose address is still
// stored and returns how many it changed. Plain hashes whose address was
// erased stay as they are until the address is seen again (an opt-out,
// opt-in or opt-out check of it re-keys them); lookups match both meanwhile.
func (db *DB) RekeyOptOuts(ctx context.Context) (int, error) {
	rows, err := db.query(ctx, db.read, `SELECT lender, channel, address FROM opt_outs WHERE keyed = FALSE AND address <> ''`)
	if err != nil {
		return 0, fmt.Errorf("re-key opt-outs: %w", err)
	}
	type optOut struct{ lender, channel, address string }
	var todo []optOut
	for rows.Next() {
		var o optOut
		if err := rows.Scan(&o.lender, &o.channel, &o.address); err != nil {
			rows.Close()
			return 0, fmt.Errorf("re-key opt-outs: %w", err)
		}
		todo = append(todo, o)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("re-key opt-outs: %w", err)
	}
	n := 0
	for len(todo) > 0 {
		batch := todo[:min(len(todo), 500)]
		todo = todo[len(batch):]
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			for _, o := range batch {
				changed, err := db.rekeyOptOut(ctx, tx, o.lender, nudge.ChannelKind(o.channel), o.address)
				if err != nil {
					return err
				}
				if changed {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
