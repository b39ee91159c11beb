-- Nudge schema, version 1 (PostgreSQL). Times are timestamptz, dates are date.

CREATE TABLE lenders (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    language   TEXT NOT NULL DEFAULT '',
    timezone   TEXT NOT NULL DEFAULT '',
    profile    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    lender     TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_lender ON api_keys (lender);

CREATE TABLE accounts (
    lender              TEXT NOT NULL,
    id                  TEXT NOT NULL CHECK (id <> ''),
    portfolio           TEXT NOT NULL DEFAULT '',
    borrower_name       TEXT NOT NULL DEFAULT '',
    borrower_language   TEXT NOT NULL DEFAULT '',
    borrower_timezone   TEXT NOT NULL DEFAULT '',
    address_country     TEXT,
    address_region      TEXT,
    address_postal_code TEXT,
    currency            TEXT NOT NULL DEFAULT '',
    amount_due          TEXT NOT NULL DEFAULT '',
    due_date            DATE,
    status              TEXT NOT NULL CHECK (status IN ('active', 'paid', 'closed', 'charged_off')),
    next_action_at      TIMESTAMPTZ,
    created_at          TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ,
    PRIMARY KEY (lender, id)
);
CREATE INDEX accounts_next_action ON accounts (next_action_at, lender, id) WHERE next_action_at IS NOT NULL;

CREATE TABLE contacts (
    lender     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    position   INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    consent    BOOLEAN NOT NULL DEFAULT FALSE,
    workplace  BOOLEAN NOT NULL DEFAULT FALSE,
    state      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (lender, account_id, channel, address),
    FOREIGN KEY (lender, account_id) REFERENCES accounts (lender, id) ON DELETE CASCADE
);
CREATE INDEX contacts_address ON contacts (channel, address);

CREATE TABLE holds (
    lender     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    position   INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ,
    PRIMARY KEY (lender, account_id, kind),
    FOREIGN KEY (lender, account_id) REFERENCES accounts (lender, id) ON DELETE CASCADE
);

CREATE TABLE cadence_versions (
    lender     TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    source     BYTEA NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ,
    PRIMARY KEY (lender, name, version)
);
CREATE UNIQUE INDEX cadence_versions_active ON cadence_versions (lender, name) WHERE active;

CREATE TABLE reminders (
    id              TEXT PRIMARY KEY,
    lender          TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    cadence         TEXT NOT NULL,
    step            TEXT NOT NULL,
    cycle           DATE NOT NULL,
    cadence_version INTEGER NOT NULL DEFAULT 0,
    channel         TEXT NOT NULL,
    fallback        TEXT NOT NULL DEFAULT '',
    template        TEXT NOT NULL DEFAULT '',
    broken_promise  BOOLEAN NOT NULL DEFAULT FALSE,
    due_at          TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    next_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    UNIQUE (lender, account_id, cadence, step, cycle)
);
CREATE INDEX reminders_pending ON reminders (status, next_at);
CREATE INDEX reminders_account ON reminders (lender, account_id);

CREATE TABLE attempts (
    id           TEXT PRIMARY KEY,
    reminder_id  TEXT NOT NULL,
    lender       TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    error_code   TEXT NOT NULL DEFAULT '',
    provider_id  TEXT NOT NULL DEFAULT '',
    zones        TEXT NOT NULL DEFAULT '[]',
    profile      TEXT NOT NULL DEFAULT '',
    answered_by  TEXT NOT NULL DEFAULT '',
    conversation BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ,
    UNIQUE (reminder_id, channel)
);
CREATE INDEX attempts_provider ON attempts (provider_id) WHERE provider_id <> '';
CREATE INDEX attempts_account ON attempts (lender, account_id, created_at);
CREATE INDEX attempts_address ON attempts (lender, channel, address, created_at);
CREATE INDEX attempts_created ON attempts (created_at);

CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lender      TEXT NOT NULL,
    account_id  TEXT NOT NULL DEFAULT '',
    reminder_id TEXT NOT NULL DEFAULT '',
    attempt_id  TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    action      TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    rule        TEXT NOT NULL DEFAULT '',
    detail      TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_account ON events (lender, account_id, id);

CREATE TABLE replies (
    id           TEXT PRIMARY KEY,
    lender       TEXT NOT NULL,
    account_id   TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    from_address TEXT NOT NULL DEFAULT '',
    to_address   TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    intent       TEXT NOT NULL DEFAULT '',
    provider_id  TEXT NOT NULL DEFAULT '',
    needs_person BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX replies_provider ON replies (provider_id) WHERE provider_id <> '';
CREATE INDEX replies_lender ON replies (lender, created_at);

CREATE TABLE promises (
    id         TEXT PRIMARY KEY,
    lender     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    amount     TEXT NOT NULL DEFAULT '',
    currency   TEXT NOT NULL DEFAULT '',
    due        DATE,
    status     TEXT NOT NULL,
    channel    TEXT NOT NULL DEFAULT '',
    reply_id   TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ
);
CREATE INDEX promises_account ON promises (lender, account_id);
CREATE INDEX promises_due ON promises (status, due);

CREATE TABLE opt_outs (
    lender       TEXT NOT NULL,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    address_hash TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ,
    PRIMARY KEY (lender, channel, address_hash)
);

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lender TEXT NOT NULL DEFAULT '',
    actor  TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_lender ON audit_log (lender, id);
