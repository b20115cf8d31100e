-- One venue token stands for at most one active platform market: two active mappings on the same token
-- would each get their own exposure limit, letting the venue position grow past the per-market limit.
CREATE UNIQUE INDEX polymarket_market_mapping_active_token
    ON polymarket_market_mapping (yes_token_id) WHERE active;
