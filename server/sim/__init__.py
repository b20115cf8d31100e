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
``faults``    injected errors, hangs and latency
``http_app``  the venue HTTP surface; ``control`` the ``/_sim/`` surface; ``ws`` the market channel
``mover``     optional random drift of the books; ``runner`` process/thread plumbing; ``wire`` formatting
"""
