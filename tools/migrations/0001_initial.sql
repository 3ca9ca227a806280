-- Migration 1: the support desk's tables, for SQLite and PostgreSQL alike. Never edit a migration
-- that has shipped: add the next number (see tools/migrations/__init__.py).
-- Every statement is idempotent (IF NOT EXISTS): files from before numbered migrations already
-- have some of these tables.
-- Money is stored as integer cents (exact sums); records expose dollars.
-- Dates are ISO 'YYYY-MM-DD' text, timestamps ISO-8601 text with a UTC offset.
-- On PostgreSQL, `INTEGER PRIMARY KEY AUTOINCREMENT` becomes an identity column and json_valid(x) a
-- jsonb cast (tools.migrations.postgres_ddl); everything else runs as written.

CREATE TABLE IF NOT EXISTS plans (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    monthly_price_cents INTEGER NOT NULL CHECK (monthly_price_cents >= 0),
    features            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(features))
);

CREATE TABLE IF NOT EXISTS customers (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT NOT NULL UNIQUE,
    plan_id      TEXT NOT NULL REFERENCES plans (id),
    member_since TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS charges (
    order_id     TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency     TEXT NOT NULL DEFAULT 'USD',
    description  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('subscription', 'add_on', 'one_time', 'seat')),
    charged_on   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('paid', 'unpaid', 'failed')),
    -- No foreign key: invoices already point at charges, and a cycle would need deferred checks.
    invoice_id   TEXT
);
CREATE INDEX IF NOT EXISTS charges_by_customer ON charges (customer_id, charged_on);

CREATE TABLE IF NOT EXISTS invoices (
    invoice_id   TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    order_id     TEXT REFERENCES charges (order_id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    issued_on    TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('paid', 'open', 'void'))
);
CREATE INDEX IF NOT EXISTS invoices_by_customer ON invoices (customer_id, issued_on);

CREATE TABLE IF NOT EXISTS payment_methods (
    method_id   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    brand       TEXT NOT NULL,
    last4       TEXT NOT NULL CHECK (length(last4) = 4),
    expires     TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1))
);
CREATE UNIQUE INDEX IF NOT EXISTS payment_methods_one_default
    ON payment_methods (customer_id) WHERE is_default = 1;

CREATE TABLE IF NOT EXISTS approvals (
    approval_id  TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    thread_id    TEXT NOT NULL,
    order_id     TEXT NOT NULL REFERENCES charges (order_id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    rule         TEXT NOT NULL,
    explanation  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_at TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT,
    note         TEXT,
    -- No foreign key: refunds.approval_id already links the pair (avoids a cycle).
    refund_id    TEXT
);
-- At most one open request per conversation and order, so a resumed graph cannot file two.
CREATE UNIQUE INDEX IF NOT EXISTS approvals_one_pending
    ON approvals (thread_id, order_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, requested_at);

CREATE TABLE IF NOT EXISTS refunds (
    refund_id       TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES charges (order_id),
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    reason          TEXT NOT NULL,
    -- The guard against paying twice: a retry reuses the key and finds the first refund.
    idempotency_key TEXT NOT NULL UNIQUE,
    approval_id     TEXT REFERENCES approvals (approval_id),
    rule            TEXT,  -- the policy rule (or "manager_approved") that allowed it
    created_at      TEXT NOT NULL,
    thread_id       TEXT
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (order_id);

CREATE TABLE IF NOT EXISTS tickets (
    ticket_id   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    thread_id   TEXT,
    reason      TEXT NOT NULL,
    priority    TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at  TEXT NOT NULL
);
-- One ticket per conversation and reason; NULL thread ids never collide (SQLite and PostgreSQL).
CREATE UNIQUE INDEX IF NOT EXISTS tickets_one_per_thread_reason ON tickets (thread_id, reason);

CREATE TABLE IF NOT EXISTS plan_changes (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id              TEXT NOT NULL REFERENCES customers (id),
    old_plan_id              TEXT NOT NULL REFERENCES plans (id),
    new_plan_id              TEXT NOT NULL REFERENCES plans (id),
    monthly_difference_cents INTEGER NOT NULL,
    effective_on             TEXT NOT NULL,
    changed_at               TEXT NOT NULL,
    thread_id                TEXT,
    actor                    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    entity  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);
CREATE INDEX IF NOT EXISTS audit_by_entity ON audit_log (entity, id);

CREATE TABLE IF NOT EXISTS articles (
    slug  TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body  TEXT NOT NULL
);

-- Earlier messages of long conversations, moved out of the checkpoint so it stays small;
-- the checkpoint keeps the recent turns, this table keeps everything said before them.
-- (Migration 3 adds the checkpoint each row was archived from.)
CREATE TABLE IF NOT EXISTS transcript_archive (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id   TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    role        TEXT NOT NULL CHECK (role IN ('customer', 'agent')),
    agent       TEXT,
    text        TEXT NOT NULL,
    UNIQUE (thread_id, message_id)
);
