-- Events feed and outbound webhooks (#21).

-- feed_pos is the event's position in its lender's public feed, assigned
-- once, in commit order, when a reader first sees the event (store.Feed):
-- event ids of concurrent transactions commit out of order, positions never
-- do, so a cursor over them skips nothing.
ALTER TABLE events ADD COLUMN feed_pos BIGINT;
-- The events already in the log are positioned here, once, in id order,
-- rather than by the first reader (which could be an API request).
UPDATE events SET feed_pos = t.pos
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY lender ORDER BY id) AS pos FROM events) AS t
WHERE events.id = t.id;
CREATE UNIQUE INDEX events_feed ON events (lender, feed_pos) WHERE feed_pos IS NOT NULL;
CREATE INDEX events_unpositioned ON events (lender, id) WHERE feed_pos IS NULL;

-- A lender's webhook endpoint: an https URL, the event types it wants
-- ('' = every type, else comma-separated), its signing secret sealed under
-- the deployment's secret, and how far into the feed deliveries were made.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    lender          TEXT NOT NULL,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL DEFAULT '',
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    disabled_at     TIMESTAMPTZ,
    feed_cursor     BIGINT NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_lender ON webhook_endpoints (lender, created_at);

-- One delivery per endpoint and event; its id is the webhook-id header,
-- the same on every try. The body is made from the event when it is sent,
-- so erasing the borrower's events erases what is still to be sent.
CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    endpoint_id  TEXT NOT NULL,
    lender       TEXT NOT NULL,
    account_id   TEXT NOT NULL DEFAULT '',
    event_id     BIGINT NOT NULL,
    feed_pos     BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    give_up_at   TIMESTAMPTZ NOT NULL,
    last_status  INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, account_id, feed_pos) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, status, feed_pos);
