-- Per-ordering-key queues. Of one key's unfinished deliveries only the oldest (its head) is
-- `pending` or `processing`; the others are `waiting` and are never claim candidates, so a
-- claim costs O(heads), not O(backlog), however long a failing PR's queue grows.
-- `unfinished` counts the key's pending, processing and waiting deliveries; writers update it
-- first, which also serialises them per key on PostgreSQL (the row lock).
CREATE TABLE delivery_queues (
    ordering_key TEXT   PRIMARY KEY,
    unfinished   BIGINT NOT NULL
);

UPDATE deliveries SET state = 'waiting'
 WHERE state = 'pending' AND ordering_key IS NOT NULL
   AND EXISTS (SELECT 1 FROM deliveries e
                WHERE e.ordering_key = deliveries.ordering_key AND e.id < deliveries.id
                  AND e.state IN ('pending', 'processing'));

INSERT INTO delivery_queues (ordering_key, unfinished)
SELECT ordering_key, COUNT(*) FROM deliveries
 WHERE ordering_key IS NOT NULL AND state IN ('pending', 'processing', 'waiting')
 GROUP BY ordering_key;

-- The claim reads heads only, through deliveries_claimable (state, available_at), since
-- waiting deliveries have a state of their own; promoting a key's next delivery reads only
-- that key's waiters.
DROP INDEX deliveries_unfinished;
DROP INDEX deliveries_ordering;
CREATE INDEX deliveries_waiting ON deliveries (ordering_key, id) WHERE state = 'waiting';
