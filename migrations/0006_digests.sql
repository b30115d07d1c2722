-- Daily digest emails: subscribers (double opt-in), the requests log that rate-limits them, and the
-- outbox: one row per subscriber, day and kind of mail, so a digest is queued once and sent once.

CREATE TABLE subscribers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: signed links name this id
    email                TEXT    NOT NULL,
    scope                TEXT    NOT NULL DEFAULT 'global',   -- 'global' or 'guild:<id>': where its topics live
    topics               TEXT    NOT NULL DEFAULT '[]',       -- JSON list of topic names in that scope
    hour                 INTEGER NOT NULL DEFAULT 7 CHECK (hour BETWEEN 0 AND 23),
    timezone             TEXT    NOT NULL DEFAULT 'UTC',
    status               TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'paused', 'unsubscribed')),
    discord_user_id      TEXT,                                -- who asked, when it was asked on Discord
    confirm_code         TEXT,                                -- the short code /digest confirm accepts
    requested_at         TEXT    NOT NULL,
    confirmed_at         TEXT,
    unsubscribed_at      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    UNIQUE (email, scope)
);
CREATE INDEX subscribers_status ON subscribers (status);
CREATE INDEX subscribers_discord ON subscribers (discord_user_id) WHERE discord_user_id IS NOT NULL;

CREATE TABLE subscription_requests (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL,
    discord_user_id TEXT,
    requested_at    TEXT NOT NULL
);
CREATE INDEX subscription_requests_email ON subscription_requests (email, requested_at);
CREATE INDEX subscription_requests_user ON subscription_requests (discord_user_id, requested_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('digest', 'confirm')),
    digest_date     TEXT    NOT NULL,                 -- YYYY-MM-DD in the subscriber's time zone
    message_id      TEXT    NOT NULL,                 -- made once at queueing, the same on every retry
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,                             -- 'sending' belongs to one delivery run until then
    claimed_by      TEXT,                             -- which run (a random token)
    window_end      TEXT,                             -- the digest covered reports first seen up to this
    last_error      TEXT,
    queued_at       TEXT    NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscriber_id, digest_date, kind)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- Only the mail still to send: delivery pages through this, not through every mail ever sent.
CREATE INDEX outbox_pending ON outbox (id) WHERE status IN ('queued', 'sending');

-- The rendered message of each mail not yet sent, apart from its small outbox row: changing a mail's
-- status then rewrites a few bytes, not the whole message (claiming 20 mails took 25 ms with them inline).
CREATE TABLE outbox_messages (
    outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
    message   BLOB    NOT NULL
);
