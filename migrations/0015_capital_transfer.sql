-- Capital (issue 22): the hedge inventory redeemed at resolution and YES+NO pairs merged back into
-- USDC, each as one transaction on chain sent through the official SDK (server/trading/capital.py).
-- Only a new table: nothing existing changes.
--
-- One row per transfer, written before anything is sent, its shares set aside on the market's
-- position (market_exposure.*_reserved_for_sale) until it ends. id is its idempotency key
-- (kind:mapping:attempt). nonce: the wallet's transaction count recorded before the request, the
-- nonce its transaction uses; tx_hash once known. status: open until the chain shows the outcome,
-- then applied (the position changed, once, in the transaction that moves the row there) or
-- reverted (the chain refused it; the shares are released). At most one open transfer per market,
-- and one applied redemption.
CREATE TABLE capital_transfer (
    id TEXT PRIMARY KEY,
    mapping_id BIGINT NOT NULL REFERENCES polymarket_market_mapping (id),
    kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge')),
    condition_id TEXT NOT NULL,
    yes_shares {money} NOT NULL,
    no_shares {money} NOT NULL,
    proceeds {money} NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'applied', 'reverted')),
    nonce BIGINT,
    tx_hash TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at {instant} NOT NULL,
    updated_at {instant} NOT NULL
);
CREATE UNIQUE INDEX capital_transfer_one_open ON capital_transfer (mapping_id) WHERE status = 'open';
CREATE UNIQUE INDEX capital_transfer_one_redemption ON capital_transfer (mapping_id)
    WHERE kind = 'redeem' AND status = 'applied';
