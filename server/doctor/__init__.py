"""`hedging doctor`: checks, before real money moves, that the venue, the wallet and the store are fit
for `live` hedging. Each check answers PASS, WARN or FAIL with one line saying what to do."""
