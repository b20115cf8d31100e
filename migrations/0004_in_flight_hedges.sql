-- Hedges in flight count at their worst (server/domain/in_flight.py): each market keeps the sum over
-- its open hedges of the YES-equivalent shares they add when filled in full, and of the most each can
-- add to the loss if YES wins and if NO wins; each hedge keeps its own two bounds, taken back out when
-- its outcome is recorded. worst_case_loss includes the bounds from now on.

ALTER TABLE market_exposure ADD COLUMN in_flight_delta {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN in_flight_loss_if_yes {money} NOT NULL DEFAULT 0;
ALTER TABLE market_exposure ADD COLUMN in_flight_loss_if_no {money} NOT NULL DEFAULT 0;
ALTER TABLE hedge_position ADD COLUMN worst_loss_if_yes {money} NOT NULL DEFAULT 0;
ALTER TABLE hedge_position ADD COLUMN worst_loss_if_no {money} NOT NULL DEFAULT 0;

-- Hedges open when this runs were booked without bounds (theirs stay 0, so recording them takes out
-- nothing), but their shares are cover: count them in the delta, as the new code does.
UPDATE market_exposure SET in_flight_delta = (
    SELECT COALESCE(SUM(CASE WHEN leg = 'YES' AND side = 'BUY' THEN num(size) ELSE -num(size) END), 0)
    FROM hedge_position
    WHERE hedge_position.mapping_id = market_exposure.mapping_id AND status IN ('pending', 'unknown')
      AND NOT is_paper
);
