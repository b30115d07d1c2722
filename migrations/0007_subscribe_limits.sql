-- Flood limits of subscription requests, kept here rather than in memory because a restart must not
-- reset an hourly limit (restarting the service is something an attacker can sometimes cause).
-- One row per counted event, all windows one hour long; rows older than that are deleted as new
-- ones arrive, so the table holds about an hour of traffic, never the history.
--   kind 'web-client'   : a subscribe-form request; subject = the client address (IPv6: its /64)
--   kind 'confirmation' : a confirmation mail queued from the web form or Discord; subject = ''
--   kind 'cap-warning'  : the log line saying the confirmation cap bit (once an hour); subject = ''

CREATE TABLE subscribe_limits (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind IN ('web-client', 'confirmation', 'cap-warning')),
    subject TEXT NOT NULL DEFAULT '',
    at      TEXT NOT NULL
);
-- Counting one window reads only that window's rows (at most the limit), whatever came before.
CREATE INDEX subscribe_limits_window ON subscribe_limits (kind, subject, at);
-- Pruning finds the aged-out rows without a scan.
CREATE INDEX subscribe_limits_age ON subscribe_limits (at);
