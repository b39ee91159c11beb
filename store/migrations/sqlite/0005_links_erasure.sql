-- Links carry no data: borrower and callback links hold a random token that
-- this table maps to its purpose (p self-service, u unsubscribe, v voice
-- call), lender, account, channel, address, attempt and expiry (NULL: never).
-- Erasure deletes an account's tokens.
CREATE TABLE link_tokens (
    token      TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    lender     TEXT NOT NULL,
    account_id TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',
    attempt_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX link_tokens_subject ON link_tokens (lender, account_id, purpose, channel, attempt_id);
CREATE INDEX link_tokens_expires ON link_tokens (expires_at) WHERE expires_at IS NOT NULL;

-- Opt-out hashes become keyed (HMAC-SHA256 under a key derived from the
-- deployment's secret). Existing rows hold the plain SHA-256 of the address
-- (keyed = FALSE): the store re-keys those that still hold their address when
-- it migrates with the secret, and the others when the address is seen
-- again; lookups match both meanwhile.
ALTER TABLE opt_outs ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX opt_outs_unkeyed ON opt_outs (lender, channel) WHERE keyed = FALSE;
