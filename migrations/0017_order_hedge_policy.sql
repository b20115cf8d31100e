-- The hedge policy each user order was booked under (issue 18's dashboard: user orders per policy).
-- Only a nullable column: nothing existing changes; orders booked before it hold NULL, which the
-- dashboard reads as netted when a book hedge's allocation covers the order and per_order otherwise.
ALTER TABLE user_order ADD COLUMN hedge_policy TEXT CHECK (hedge_policy IN ('per_order', 'netted'));
