-- The rebalancer's hedges (issue 18): in `netted` markets one venue order covers the market's gap,
-- not one user order. Only new tables: nothing existing changes.
--
-- book_hedge: hedge_position's state machine without a user order. Signed and stored (hash and
-- exact bytes) in the transaction that decides it, before anything is posted; a retry re-posts the
-- same bytes; an open one (pending/unknown) counts in its market's in-flight columns at its worst.
CREATE TABLE book_hedge (
    id               TEXT PRIMARY KEY,
    mapping_id       BIGINT NOT NULL REFERENCES polymarket_market_mapping (id),
    token_id         TEXT NOT NULL,
    leg              TEXT NOT NULL CHECK (leg IN ('YES', 'NO')),
    side             TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    size             {money} NOT NULL CHECK (num(size) > 0),
    limit_price      {money} NOT NULL CHECK (num(limit_price) > 0 AND num(limit_price) < 1),
    order_type       TEXT NOT NULL CHECK (order_type IN ('FOK', 'FAK')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'unknown', 'hedged', 'partial', 'failed')),
    venue_order_id   TEXT NOT NULL UNIQUE,
    signed_order     TEXT NOT NULL,
    filled_size      {money} NOT NULL CHECK (num(filled_size) >= 0),
    fill_cost        {money} NOT NULL CHECK (num(fill_cost) >= 0),
    fee              {money} NOT NULL CHECK (num(fee) >= 0),
    failure_reason   TEXT,
    attempt_count    INTEGER NOT NULL CHECK (attempt_count >= 0),
    next_check_at    {instant},
    worst_loss_if_yes {money} NOT NULL,
    worst_loss_if_no {money} NOT NULL,
    created_at       {instant} NOT NULL,
    updated_at       {instant} NOT NULL,
    resolved_at      {instant}
);
CREATE INDEX book_hedge_open ON book_hedge (mapping_id, status, created_at);

-- Which user orders a book hedge's fill covered (order_id NULL: shares beyond every order's need,
-- held as inventory), with their exact parts of its cost and fee; written in the transaction that
-- records the hedge's outcome. book_hedge_id NULL: the order's shares netted against opposite user
-- orders (no venue order, no cost, no fee).
CREATE TABLE hedge_allocation (
    id             {pk},
    book_hedge_id  TEXT REFERENCES book_hedge (id),
    order_id       TEXT REFERENCES user_order (id),
    shares         {money} NOT NULL CHECK (num(shares) > 0),
    cost           {money} NOT NULL CHECK (num(cost) >= 0),
    fee            {money} NOT NULL CHECK (num(fee) >= 0),
    created_at     {instant} NOT NULL
);
CREATE INDEX hedge_allocation_order ON hedge_allocation (order_id);
CREATE INDEX hedge_allocation_hedge ON hedge_allocation (book_hedge_id);

-- The orders a netted market's hedges have yet to cover, oldest first, read by its rebalancer on
-- every pass: a partial index, so covered orders (nearly all of them) cost nothing.
CREATE INDEX user_order_waiting ON user_order (mapping_id, created_at)
    WHERE status = 'accepted' AND hedge_status IN ('not_attempted', 'partially_hedged');
