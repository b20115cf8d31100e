-- A person's request (the gateway's retryHedge) to re-hedge the residual of a FAILED or PARTIAL live
-- hedge. The gateway only records it; the re-hedger of a server process picks the hedge up (even when
-- rehedgeEnabled is off, its attempts are used up or its back-off is not over), and its re-hedge row
-- consumes the request. The columns stay as the record of who asked, when and why.

ALTER TABLE hedge_position ADD COLUMN rehedge_requested_at {instant};
ALTER TABLE hedge_position ADD COLUMN rehedge_requested_by TEXT;
ALTER TABLE hedge_position ADD COLUMN rehedge_request_reason TEXT;

-- Requested hedges are few and read on every re-hedger pass, whatever their age.
CREATE INDEX hedge_position_rehedge_requested ON hedge_position (rehedge_requested_at)
    WHERE rehedge_requested_at IS NOT NULL;
