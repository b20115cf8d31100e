-- Settlement of resolved markets (issue 22). Only new tables: nothing existing changes.
--
-- market_settlement: one row per resolved market whose user positions were settled, written by the
-- one transaction that settles it (server/store/settlements.py), with its market_payout rows. The
-- primary key makes a market settle once, whatever the number of processes or restarts.
-- winning_leg: 'yes' or 'no'; accounts: how many payout rows it wrote; payout: their sum (USDC).
CREATE TABLE market_settlement (
    mapping_id BIGINT PRIMARY KEY REFERENCES polymarket_market_mapping (id),
    winning_token_id TEXT NOT NULL,
    winning_leg TEXT NOT NULL,
    accounts INTEGER NOT NULL,
    payout {money} NOT NULL,
    settled_at {instant} NOT NULL
);

-- What the platform owes one account for one resolved market: its net outcome shares (bought less
-- sold back, over its accepted orders) times 1 USDC if the outcome won, else 0. Unique per account
-- and market.
CREATE TABLE market_payout (
    id TEXT PRIMARY KEY,
    mapping_id BIGINT NOT NULL REFERENCES market_settlement (mapping_id),
    account_id TEXT NOT NULL,
    shares {money} NOT NULL,
    payout {money} NOT NULL,
    created_at {instant} NOT NULL,
    UNIQUE (mapping_id, account_id)
);
CREATE INDEX market_payout_account ON market_payout (account_id, created_at);
CREATE INDEX market_payout_page ON market_payout (created_at, id);
