-- The whole hedging store. Written once for both dialects: the runner replaces {money}, {instant},
-- {pk}, {bool}, {true}, {false} and num(x) (a numeric view of a money column inside CHECKs) for
-- PostgreSQL (NUMERIC, timestamptz) or SQLite (exact decimal text).

CREATE TABLE hedge_config (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    value_type  TEXT NOT NULL CHECK (value_type IN ('decimal', 'int', 'bool', 'enum', 'text')),
    version     INTEGER NOT NULL CHECK (version >= 1),
    updated_by  TEXT NOT NULL,
    updated_at  {instant} NOT NULL
);

-- Append-only audit of every config change.
CREATE TABLE hedge_config_history (
    id          {pk},
    key         TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    changed_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    changed_at  {instant} NOT NULL
);
CREATE INDEX hedge_config_history_key ON hedge_config_history (key, id);

CREATE TABLE polymarket_market_mapping (
    id              {pk},
    event_id        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    condition_id    TEXT NOT NULL,
    yes_token_id    TEXT NOT NULL,
    no_token_id     TEXT NOT NULL CHECK (no_token_id <> yes_token_id),
    neg_risk        {bool} NOT NULL,
    tick_size       {money} NOT NULL CHECK (num(tick_size) > 0 AND num(tick_size) < 1),
    min_order_size  {money} NOT NULL CHECK (num(min_order_size) >= 0),
    fee_rate        {money} NOT NULL CHECK (num(fee_rate) >= 0),
    fee_exponent    {money} NOT NULL CHECK (num(fee_exponent) >= 0),
    -- Per-market exposure limit; NULL means the configured default (maxMarketExposure).
    exposure_limit  {money} CHECK (exposure_limit IS NULL OR num(exposure_limit) >= 0),
    question        TEXT NOT NULL,
    active          {bool} NOT NULL,
    created_at      {instant} NOT NULL,
    updated_at      {instant} NOT NULL,
    UNIQUE (event_id, outcome)
);
CREATE INDEX polymarket_market_mapping_condition ON polymarket_market_mapping (condition_id);

CREATE TABLE user_order (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL,
    request_id          TEXT NOT NULL,
    -- Digest of the request body: the same request_id with another body is refused.
    request_hash        TEXT NOT NULL,
    mapping_id          BIGINT REFERENCES polymarket_market_mapping (id),
    event_id            TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    side                TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    size                {money} NOT NULL CHECK (num(size) > 0),
    limit_price         {money} CHECK (limit_price IS NULL OR (num(limit_price) > 0 AND num(limit_price) < 1)),
    status              TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reject_reason       TEXT,
    message             TEXT NOT NULL,
    price               {money} CHECK (price IS NULL OR (num(price) > 0 AND num(price) < 1)),
    notional            {money} CHECK (notional IS NULL OR num(notional) >= 0),
    reference_price     {money} CHECK (reference_price IS NULL OR (num(reference_price) > 0 AND num(reference_price) < 1)),
    hedge_fee_estimate  {money} CHECK (hedge_fee_estimate IS NULL OR num(hedge_fee_estimate) >= 0),
    hedge_status        TEXT NOT NULL,
    hedged_size         {money} NOT NULL CHECK (num(hedged_size) >= 0),
    created_at          {instant} NOT NULL,
    updated_at          {instant} NOT NULL,
    UNIQUE (account_id, request_id)
);
CREATE INDEX user_order_created ON user_order (created_at);
CREATE INDEX user_order_market ON user_order (event_id, outcome, created_at);

CREATE TABLE hedge_position (
    id               TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL REFERENCES user_order (id),
    mapping_id       BIGINT NOT NULL REFERENCES polymarket_market_mapping (id),
    -- A re-hedge of an unhedged residual points at the hedge it continues.
    parent_hedge_id  TEXT REFERENCES hedge_position (id),
    token_id         TEXT NOT NULL,
    leg              TEXT NOT NULL CHECK (leg IN ('YES', 'NO')),
    side             TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    size             {money} NOT NULL CHECK (num(size) > 0),
    limit_price      {money} NOT NULL CHECK (num(limit_price) > 0 AND num(limit_price) < 1),
    quoted_price     {money} NOT NULL CHECK (num(quoted_price) > 0 AND num(quoted_price) < 1),
    user_price       {money} NOT NULL CHECK (num(user_price) > 0 AND num(user_price) < 1),
    order_type       TEXT NOT NULL CHECK (order_type IN ('FOK', 'FAK')),
    is_paper         {bool} NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'unknown', 'hedged', 'partial', 'failed', 'paper')),
    -- Polymarket's order id (the EIP-712 order hash), stored before the order is first posted.
    venue_order_id   TEXT UNIQUE,
    -- The signed order exactly as posted: a retry re-posts these bytes, never a new signature.
    signed_order     TEXT,
    -- A BUY spends its USDC budget, so price improvement can bring a hair more shares than planned.
    filled_size      {money} NOT NULL CHECK (num(filled_size) >= 0),
    fill_cost        {money} NOT NULL CHECK (num(fill_cost) >= 0),
    fill_price       {money} CHECK (fill_price IS NULL OR (num(fill_price) > 0 AND num(fill_price) < 1)),
    fee              {money} NOT NULL CHECK (num(fee) >= 0),
    spread_captured  {money} NOT NULL,
    net_profit       {money} NOT NULL,
    failure_reason   TEXT,
    attempt_count    INTEGER NOT NULL CHECK (attempt_count >= 0),
    next_check_at    {instant},
    created_at       {instant} NOT NULL,
    updated_at       {instant} NOT NULL,
    submitted_at     {instant},
    resolved_at      {instant}
);
CREATE INDEX hedge_position_order ON hedge_position (order_id);
CREATE INDEX hedge_position_status ON hedge_position (status, created_at);
CREATE INDEX hedge_position_created ON hedge_position (created_at);

-- Reservation counters per market, locked row by row so unrelated markets never contend.
CREATE TABLE market_exposure (
    mapping_id            BIGINT PRIMARY KEY REFERENCES polymarket_market_mapping (id),
    user_shares           {money} NOT NULL,
    hedge_yes             {money} NOT NULL CHECK (num(hedge_yes) >= 0),
    hedge_no              {money} NOT NULL CHECK (num(hedge_no) >= 0),
    yes_reserved_for_sale {money} NOT NULL CHECK (num(yes_reserved_for_sale) >= 0),
    net_cash              {money} NOT NULL,
    worst_case_loss       {money} NOT NULL,
    updated_at            {instant} NOT NULL
);

-- One row: the sum over markets of max(worst_case_loss, 0).
CREATE TABLE risk_totals (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    unhedged_exposure  {money} NOT NULL CHECK (num(unhedged_exposure) >= 0),
    updated_at         {instant} NOT NULL
);
INSERT INTO risk_totals (id, unhedged_exposure, updated_at) VALUES (1, '0', {now});

-- Append-only event log; its id orders every stream.
CREATE TABLE hedge_event (
    id          {pk},
    event_type  TEXT NOT NULL,
    created_at  {instant} NOT NULL,
    event_id    TEXT,
    outcome     TEXT,
    order_id    TEXT,
    hedge_id    TEXT,
    message     TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX hedge_event_created ON hedge_event (created_at);

CREATE TABLE circuit_breaker (
    name        TEXT PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('active', 'reducing', 'halted')),
    reason      TEXT NOT NULL,
    tripped_at  {instant},
    updated_by  TEXT NOT NULL,
    updated_at  {instant} NOT NULL
);

CREATE TABLE risk_snapshot (
    id                 {pk},
    taken_at           {instant} NOT NULL,
    reason             TEXT NOT NULL,
    unhedged_exposure  {money} NOT NULL,
    exposure_limit     {money} NOT NULL,
    spread_captured    {money} NOT NULL,
    fees               {money} NOT NULL,
    net_profit         {money} NOT NULL,
    pending_hedges     INTEGER NOT NULL,
    unknown_hedges     INTEGER NOT NULL,
    breaker_state      TEXT NOT NULL,
    per_market         TEXT NOT NULL
);
CREATE INDEX risk_snapshot_taken ON risk_snapshot (taken_at);
