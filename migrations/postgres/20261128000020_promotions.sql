-- Promotion requests (teacher -> school admin) and their way to the support
-- desk and back. Same portable types as the directory migration: text ids and
-- RFC 3339 times, integer flags.

-- One row per request: its place in the state machine
--   queued -> ticket_open -> approved | rejected, and failed (with a reason)
-- from queued (delivery gave up) or from an approval that could not apply.
CREATE TABLE promotion_requests (
    -- The number people see ("request #12"). One sequence for the whole
    -- installation rather than per tenant, so an operator can name a request
    -- with a bare number (`hallpass promotions retry 12`). An identity, so a
    -- number is never handed out twice (a rolled-back insert leaves a gap).
    number          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The stable id (UUIDv7): the ticket's external_id in Zendesk and the
    -- Idempotency-Key of its creation, so the webhook and retries find it.
    id              TEXT NOT NULL UNIQUE,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    teacher_id      TEXT NOT NULL REFERENCES users(id),
    -- The teacher's school when the request was made: an approval applies only
    -- while the teacher is still there.
    school_id       TEXT NOT NULL REFERENCES schools(id),
    requester_id    TEXT NOT NULL REFERENCES users(id),
    reason          TEXT NOT NULL,
    state           TEXT NOT NULL
                    CHECK (state IN ('queued', 'ticket_open', 'approved', 'rejected', 'failed')),
    failure_reason  TEXT,                -- for 'failed': what an operator can act on
    ticket_id       BIGINT,              -- the Zendesk ticket, once it exists
    decided_by      TEXT,                -- the agent's email, from the webhook
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
-- One open request per teacher: a partial unique index, so the database itself
-- refuses a second one even when two admins ask at the same moment.
CREATE UNIQUE INDEX promotion_requests_one_open
    ON promotion_requests (teacher_id) WHERE state IN ('queued', 'ticket_open');
CREATE INDEX promotion_requests_by_state ON promotion_requests (state, number);

-- The durable outbox: one entry per request, written in the same transaction
-- as the request, delivered by the worker (`support::outbox`).
CREATE TABLE support_outbox (
    request_id       TEXT PRIMARY KEY REFERENCES promotion_requests(id),
    -- The ticket exactly as first rendered (JSON). Every attempt sends these
    -- bytes again: Zendesk answers 400 to a reused Idempotency-Key with a
    -- different body. It lives here, with the delivery, because it is the
    -- message to send rather than a fact about the request.
    ticket_json      TEXT NOT NULL,
    -- When delivery (re)started: the give-up horizon counts from here.
    enqueued_at      TEXT NOT NULL,
    -- Failed attempts since then (the backoff exponent); 429s do not count.
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- When the worker may try next; NULL once there is nothing left to do
    -- (delivered, given up, or decided). Invariant: not NULL exactly while the
    -- request is 'queued'.
    next_attempt_at  TEXT,
    last_error       TEXT,
    -- 1 once an attempt may have created the ticket without our hearing of it
    -- (timeout, 5xx, a worker that vanished mid-call): from then on the worker
    -- looks the ticket up by external_id before creating one. Never reset.
    uncertain        BIGINT NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
    -- The claim of one worker: the token names the claim, and a claim that
    -- outlives lease_until is presumed dead (its entry is taken over, as uncertain).
    lease_token      TEXT,
    lease_until      TEXT,
    delivered_at     TEXT
);
CREATE INDEX support_outbox_due ON support_outbox (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX support_outbox_by_lease ON support_outbox (lease_token)
    WHERE lease_token IS NOT NULL;

-- Zendesk webhook invocations already applied. Zendesk repeats an invocation
-- id when it retries; the route applies each id once. Old ids are pruned (a
-- signature older than five minutes is refused anyway).
CREATE TABLE webhook_invocations (
    invocation_id  TEXT PRIMARY KEY,
    received_at    TEXT NOT NULL
);
CREATE INDEX webhook_invocations_by_time ON webhook_invocations (received_at);
