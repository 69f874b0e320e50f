-- The queues of the single-host runtime (`clawgate dev`, `clawgate serve`): SQS semantics kept in PostgreSQL, so a
-- message acknowledged to a webhook survives a crash of the runtime. In AWS the queues are SQS and these stay empty.

-- A message waiting or in flight. FIFO queues deliver a group's messages in id order, one batch in flight per group;
-- standard queues (group_id NULL) deliver in any order. A receive sets visible_at ahead (the visibility timeout),
-- a new receipt and the receiver; success deletes the row, failure sets visible_at to the retry time.
CREATE TABLE IF NOT EXISTS queue_messages (
    id            bigserial PRIMARY KEY,
    queue         text NOT NULL,
    group_id      text,
    dedup_id      text,
    body          text NOT NULL,
    sent_at       timestamptz NOT NULL DEFAULT now(),
    visible_at    timestamptz NOT NULL DEFAULT now(),
    receive_count integer NOT NULL DEFAULT 0,
    receipt       uuid,
    receiver      text,
    last_error    text
);
CREATE INDEX IF NOT EXISTS queue_messages_group_idx ON queue_messages (queue, group_id, id);
CREATE INDEX IF NOT EXISTS queue_messages_visible_idx ON queue_messages (queue, visible_at);
CREATE INDEX IF NOT EXISTS queue_messages_receiver_idx ON queue_messages (receiver) WHERE receiver IS NOT NULL;

-- Deduplication ids seen in the last five minutes (SQS FIFO's window): a repeat is accepted and dropped.
CREATE TABLE IF NOT EXISTS queue_deduplication (
    queue    text NOT NULL,
    dedup_id text NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue, dedup_id)
);

-- The dead-letter queue: a message that failed max_receives times, moved here so its group moves on.
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id            bigint PRIMARY KEY,
    queue         text NOT NULL,
    group_id      text,
    body          text NOT NULL,
    sent_at       timestamptz NOT NULL,
    receive_count integer NOT NULL,
    last_error    text,
    dead_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS queue_dead_letters_queue_idx ON queue_dead_letters (queue, dead_at);
