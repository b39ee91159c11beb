-- Exactly once at the provider's edge: what was sent (the reconciler
-- matches it against the provider's records) and when the last gate let it
-- through; status callbacks that arrive before their send is recorded; and
-- pauses checked at the last gate (a channel paused when its sender address
-- is refused).
ALTER TABLE attempts ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN sending_at TIMESTAMPTZ;
CREATE INDEX reminders_status_updated ON reminders (status, updated_at);

CREATE TABLE early_callbacks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX early_callbacks_provider ON early_callbacks (provider_id);

CREATE TABLE pauses (
    lender     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (lender, scope, target)
);
