-- Settlement of resolved markets (issue 22): new tables, and the total exposure recounted with
-- neg-risk groups counted at their worst case (the last statement).
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

-- The total exposure counts a neg-risk event group once, at its worst case over which single outcome
-- wins (or none), instead of the sum of its markets' own worst cases (server/domain/exposure.py):
-- recount it so. A market's loss if YES wins (l_yes) and if NO wins (l_no) are those of
-- server/domain/exposure.py's Position; a group's worst case is the sum of its markets' l_no plus the
-- largest l_yes - l_no of them (when positive: "none wins" otherwise). Each term is floored at zero.
WITH m AS (
    SELECT p.event_group,
           e.user_shares - e.hedge_yes - e.net_cash + e.in_flight_loss_if_yes AS l_yes,
           - e.hedge_no - e.net_cash + e.in_flight_loss_if_no AS l_no
    FROM market_exposure e JOIN polymarket_market_mapping p ON p.id = e.mapping_id
), alone AS (
    SELECT COALESCE(SUM(GREATEST(l_yes, l_no, 0)), 0) AS v FROM m WHERE event_group IS NULL
), grouped AS (
    SELECT COALESCE(SUM(GREATEST(worst, 0)), 0) AS v FROM (
        SELECT SUM(l_no) + GREATEST(MAX(l_yes - l_no), 0) AS worst FROM m
        WHERE event_group IS NOT NULL GROUP BY event_group
    ) g
)
UPDATE risk_totals SET unhedged_exposure = (SELECT v FROM alone) + (SELECT v FROM grouped) WHERE id = 1;
