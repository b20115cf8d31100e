-- Totals that stay cheap to read however long the history: each market keeps the sums GetExposure,
-- the gateway's exposure and the risk monitor used to compute from every order and hedge
-- (server/risk/market_totals.py says what each one sums), and the hedges that ended are counted per
-- second of their creation for the failure-rate window (server/store/outcome_seconds.py). All are
-- written in the transactions that change the rows they sum; `hedging check-totals` recomputes them.

ALTER TABLE market_exposure ADD COLUMN hedged_notional {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN unhedged_notional {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN spread_captured {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN fees {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN net_profit {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN pending_hedges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN unknown_hedges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN hedged_hedges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN partial_hedges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN failed_hedges INTEGER NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN paper_hedges INTEGER NOT NULL DEFAULT 0;

CREATE TABLE hedge_outcome_second (
    created_second {instant} PRIMARY KEY,
    final_hedges   INTEGER NOT NULL,
    failed_hedges  INTEGER NOT NULL
);

-- The history so far. Exact on PostgreSQL (NUMERIC); on SQLite the money sums go through REAL, so
-- an existing SQLite database is made exact afterwards with `hedging check-totals --repair`.
UPDATE market_exposure SET
    hedged_notional = (
        SELECT COALESCE(SUM(CASE WHEN num(hedged_size) < num(size) THEN num(hedged_size) ELSE num(size) END
                            * num(price)), 0)
        FROM user_order WHERE user_order.mapping_id = market_exposure.mapping_id AND status = 'accepted'),
    unhedged_notional = (
        SELECT COALESCE(SUM((num(size) - CASE WHEN num(hedged_size) < num(size) THEN num(hedged_size)
                                              ELSE num(size) END) * num(price)), 0)
        FROM user_order WHERE user_order.mapping_id = market_exposure.mapping_id AND status = 'accepted'),
    spread_captured = (
        SELECT COALESCE(SUM(num(spread_captured)), 0)
        FROM hedge_position WHERE hedge_position.mapping_id = market_exposure.mapping_id),
    fees = (
        SELECT COALESCE(SUM(num(fee)), 0)
        FROM hedge_position WHERE hedge_position.mapping_id = market_exposure.mapping_id),
    net_profit = (
        SELECT COALESCE(SUM(num(net_profit)), 0)
        FROM hedge_position WHERE hedge_position.mapping_id = market_exposure.mapping_id),
    pending_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'pending'),
    unknown_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'unknown'),
    hedged_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'hedged'),
    partial_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'partial'),
    failed_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'failed'),
    paper_hedges = (
        SELECT COUNT(*) FROM hedge_position
        WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status = 'paper');

INSERT INTO hedge_outcome_second (created_second, final_hedges, failed_hedges)
SELECT second_of(created_at), COUNT(*), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)
FROM hedge_position WHERE status IN ('hedged', 'partial', 'failed', 'paper')
GROUP BY second_of(created_at);
