"""Local Polymarket CLOB V2 exchange simulator that the unmodified py-clob-client-v2 1.2.x trades against.

Start it:

* tests: ``server.sim.runner.start_simulator(port=0)`` -> ``RunningSimulator`` (``.url``, ``.exchange``,
  ``.mover``, ``.ws_url``, ``.stop()``; a context manager);
* shell: ``python -m server.sim --host 127.0.0.1 --port 8081`` (``server.sim.runner.main(argv)``).

Modules, one thing each:

``markets``   market list from ``markets.json`` (``load_markets``)
``signing``   EIP-712 order/ClobAuth hashing and signer recovery (coincurve)
``auth``      API keys, L1 and L2 verification
``orders``    signed-order parsing, amount/tick/size rules, the order record
``book``      price-time book per market in YES prices (NO mirrored)
``ledger``    balances and holds
``fees``      taker fee formula
``trades``    trade records
``exchange``  the exchange: checks, matching, settlement, queries, control API (see its docstring)
``faults``    injected errors, hangs and latency; ``latency`` the seeded latency distribution
``order_budget`` the per-signer order token bucket
``profile``   ``fast`` (default) and ``realistic`` (``--profile``): latency tail, taker delays, slow and
              failing settlement, moving books, finite funds
``http_app``  the venue HTTP surface; ``control`` the ``/_sim/`` surface; ``ws`` the market channel
``mover``     optional random drift of the books; ``runner`` process/thread plumbing; ``wire`` formatting

Not modelled, and why:

* the relayer (deposit-wallet deployment ``/deployed``, gasless transactions) and the Gamma and data
  APIs: other services than the CLOB; polymarket-client 0.14.0 asks the relayer whether a deposit
  wallet exists before it trades, so a type-3 client against this simulator needs that call stubbed;
* ExchangeV3 orders (EIP-712 domain version "3", signed for protocol-v2 position ids): our token ids
  are v1 position ids, and the launch date and ExchangeV3's matching rules are not published;
* the user WebSocket channel (trade status pushes): clients here poll ``/data/trades`` and
  ``/data/order``; the ``MATCHED_NOT_BROADCASTED`` trade status (seen, undocumented);
* the cancel bucket of the order budget, tiers from 30-day volume, and the IP limits (Cloudflare
  queues rather than refuses: a latency, which the realistic profile's tail stands in for);
* latency spent before an answer is sent (a post executed, its answer then lost): ``inject_fault``
  with ``mode="after"`` does that on cue; the profile's draw comes before the exchange sees the order;
* on-chain settlement itself: MINED/CONFIRMED/FAILED follow a clock and a seeded draw, not blocks;
  a FAILED trade reverts balances but its orders keep their matched size;
* market resolution, redemption, and liquidity providers that react to trades (the book mover
  shifts the seed liquidity by a tick at a time, it does not refill what takers take).
"""
