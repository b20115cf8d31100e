-- Markets end (issue 22). Only nullable columns and columns with a default: nothing existing changes.
--
-- market_state: where the Polymarket market is in its life as the venue last said (open,
-- not_accepting, closed, resolved; server/domain/market_state.py), followed by the service
-- (server/trading/market_states.py). A closed or resolved market takes no new orders (MARKET_CLOSED).
-- winning_token_id: the token that won, once resolved. market_state_at: when the state last changed.
-- event_group: the neg-risk event the market belongs to (one question, mutually exclusive outcomes:
-- at most one market of a group resolves YES); NULL when it stands alone.
ALTER TABLE polymarket_market_mapping ADD COLUMN market_state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE polymarket_market_mapping ADD COLUMN winning_token_id TEXT;
ALTER TABLE polymarket_market_mapping ADD COLUMN market_state_at {instant};
ALTER TABLE polymarket_market_mapping ADD COLUMN event_group TEXT;
CREATE INDEX polymarket_market_mapping_event_group ON polymarket_market_mapping (event_group)
    WHERE event_group IS NOT NULL;
