-- The unfinished deliveries of one ordering key, oldest first: the claim's "is an earlier one
-- unfinished?" test and the intake's "when may the new one run?" lookup read only these.
CREATE INDEX deliveries_unfinished ON deliveries (ordering_key, id)
    WHERE state IN ('pending', 'processing');
