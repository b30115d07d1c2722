-- Discord servers' own configuration, kept strictly per server: the moderator role, alert channels,
-- the feeds a server added, and the alerts already posted (one message per story and channel,
-- edited as more outlets report it).

CREATE TABLE guild_settings (
    guild_id    TEXT PRIMARY KEY,
    mod_role_id TEXT,                              -- members with this role count as moderators
    updated_at  TEXT NOT NULL
);

CREATE TABLE alert_channels (
    id         INTEGER PRIMARY KEY,
    guild_id   TEXT    NOT NULL,
    topic_id   INTEGER REFERENCES topics (id) ON DELETE CASCADE,  -- NULL: all the server's topics + feed health
    channel_id TEXT    NOT NULL,
    since      TEXT    NOT NULL                    -- stories first seen before this are never posted
);
CREATE UNIQUE INDEX alert_channels_one ON alert_channels (guild_id, ifnull(topic_id, 0));

CREATE TABLE alert_posts (
    channel_id   TEXT    NOT NULL,
    story_id     INTEGER NOT NULL,
    topic_id     INTEGER,
    message_id   TEXT,                             -- NULL while sending: never posted twice
    outlet_count INTEGER NOT NULL,
    posted_at    TEXT    NOT NULL,
    edited_at    TEXT,
    PRIMARY KEY (channel_id, story_id)
) WITHOUT ROWID;
CREATE INDEX alert_posts_recent ON alert_posts (channel_id, posted_at);

CREATE TABLE feed_guilds (
    feed_id  INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    guild_id TEXT    NOT NULL,
    added_at TEXT    NOT NULL,
    PRIMARY KEY (feed_id, guild_id)
) WITHOUT ROWID;
CREATE INDEX feed_guilds_guild ON feed_guilds (guild_id);

-- The feed health last announced in a channel, so a change is said once (and its recovery once).
CREATE TABLE feed_notices (
    feed_id    INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    channel_id TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    noticed_at TEXT    NOT NULL,
    PRIMARY KEY (feed_id, channel_id)
) WITHOUT ROWID;

-- When a feed first answered: its first poll is backlog, never news to alert about.
ALTER TABLE feeds ADD COLUMN first_success_at TEXT;
UPDATE feeds SET first_success_at = last_success_at;
ALTER TABLE feeds ADD COLUMN added_by TEXT;          -- NULL: the operator; 'guild:<id>': a server's moderators
-- What is backlog, marked where it happens (times alone cannot tell within a second):
ALTER TABLE reports ADD COLUMN from_backlog INTEGER NOT NULL DEFAULT 0;      -- stored by its feed's first poll
ALTER TABLE report_topics ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0;  -- matched when its topic was added
