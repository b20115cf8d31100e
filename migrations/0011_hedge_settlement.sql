-- Settlement (issue 20): a live hedge is recorded at the venue's MATCHED answer; its trades then go
-- MINED and CONFIRMED on chain, or FAILED (the venue reverts the trade's balance moves). The service
-- follows each trade until it is final (server/trading/settlement.py). Only a new table and a nullable
-- column: nothing existing changes.
--
-- hedge_position.settlement: 'settling' while some trade of the hedge's fill is not final, 'settled'
-- once all are; NULL when there is nothing to follow (paper, nothing filled, hedges recorded before).
ALTER TABLE hedge_position ADD COLUMN settlement TEXT;

-- One row per venue trade of a hedge's fill. status is the venue's word, lower case: matched, mined,
-- retrying, confirmed or failed. shares and price are the hedge's side of the trade, filled in when the
-- venue's trade record is first read. A trade is applied once: its writer locks the row and moves it to
-- a final status only from a non-final one.
CREATE TABLE hedge_trade (
    trade_id TEXT PRIMARY KEY,
    hedge_id TEXT NOT NULL REFERENCES hedge_position (id),
    status TEXT NOT NULL,
    shares {money},
    price {money},
    updated_at {instant} NOT NULL
);
CREATE INDEX hedge_trade_hedge ON hedge_trade (hedge_id);
CREATE INDEX hedge_position_settling ON hedge_position (created_at) WHERE settlement = 'settling';
