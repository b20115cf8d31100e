-- Hedging the book (issue 18). Only new tables and nullable columns: nothing existing changes.
--
-- venue_order_budget: the venue's per-signer order bucket as we keep it (server/domain/order_bucket.py),
-- one row per signer address, shared by every server process: each takes its tokens under the row's
-- lock (SELECT ... FOR UPDATE) in one transaction, on the database's clock, so together they never
-- send more than the budget. blocked_until: a 429's Retry-After, honoured by every process.
CREATE TABLE venue_order_budget (
    signer TEXT PRIMARY KEY,
    tokens {money} NOT NULL,
    as_of {instant} NOT NULL,
    blocked_until {instant}
);

-- A mapping may override the hedge policy keys (NULL: the config key's value holds).
ALTER TABLE polymarket_market_mapping ADD COLUMN hedge_policy TEXT;
ALTER TABLE polymarket_market_mapping ADD COLUMN hedge_ratio {money};
ALTER TABLE polymarket_market_mapping ADD COLUMN hedge_min_shares {money};
ALTER TABLE polymarket_market_mapping ADD COLUMN hedge_max_delay_ms INTEGER;

-- NO shares promised to in-flight SELL hedges (the rebalancer sells the over-held outcome, either one),
-- beside yes_reserved_for_sale (0001).
ALTER TABLE market_exposure ADD COLUMN no_reserved_for_sale {money} NOT NULL DEFAULT 0;
