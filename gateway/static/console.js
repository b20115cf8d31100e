// The operator console: reads and steers the service through the gateway's GraphQL API only, with the
// bearer token given once (in the URL fragment #token=..., or the form) and kept for this tab.
(function () {
  "use strict";
  const KEY = "hedging.token";
  const BUCKETS = 12, BUCKET_MS = 5 * 60 * 1000; // the charts: the last hour in 5-minute buckets
  const $ = (id) => document.getElementById(id);

  function takeToken() {
    const match = location.hash.match(/token=([^&]+)/);
    if (match) {
      sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname); // the token leaves the address bar
    }
    return sessionStorage.getItem(KEY);
  }
  let token = takeToken();

  class Refused extends Error {}

  async function gql(query, variables) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    });
    const body = await response.json();
    if (response.status === 401) throw new Refused(body.errors[0].message);
    if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
    return body.data;
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    return td;
  }

  function fill(tableId, rows) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement("tr");
        tr.append(...cells);
        return tr;
      })
    );
  }

  const when = (iso) => new Date(iso).toLocaleTimeString();
  const money = (v) => Number(v).toFixed(2);
  const percent = (v) => (v === null ? "–" : (Number(v) * 100).toFixed(1) + " %");

  const STATE = `{
    config { key value version updatedBy }
    configHistory(first: 20) { key oldValue newValue changedBy reason changedAt }
    breakers { state breakers { name state reason updatedBy } }
    exposure { markets { eventId outcome worstCaseLoss limit utilisation } }
    dashboard(period: H1) {
      hedges { hedges successRate netProfit fees }
      recentFailures { hedgeId eventId outcome status failureReason createdAt }
      policies(buckets: 12) {
        policy venueOrders fees orders { orders accepted }
        unhedgedExposure { from to last peak }
      }
      pnl { realised markToMarket markets { eventId outcome winningLeg final realised spread fees slippage unhedged redemption } }
    }
  }`;

  function showState(d) {
    const mode = d.config.find((c) => c.key === "mode");
    $("mode").textContent = mode ? mode.value : "?";
    $("state").textContent = d.breakers.state;
    $("state").className = d.breakers.state === "active" ? "good" : "bad";
    fill("breakers", d.breakers.breakers.map((b) => [cell(b.name), cell(b.state), cell(b.reason), cell(b.updatedBy)]));
    $("no-breakers").hidden = d.breakers.breakers.length > 0;
    fill(
      "exposure",
      d.exposure.markets.map((m) => {
        const used = m.utilisation === null ? 0 : Number(m.utilisation);
        const bar = document.createElement("td");
        const span = document.createElement("span");
        span.className = used > 0.8 ? "bar high" : "bar";
        span.style.width = Math.min(100, used * 100).toFixed(0) + "px";
        bar.append(span, " " + percent(m.utilisation));
        return [cell(m.eventId + " " + m.outcome), cell(money(m.worstCaseLoss)), cell(money(m.limit)), bar];
      })
    );
    const h = d.dashboard.hedges;
    $("figures").textContent =
      `${h.hedges} hedges · success ${percent(h.successRate)} · P&L ${money(h.netProfit)} · fees ${money(h.fees)}`;
    const p = d.dashboard.pnl;
    $("pnl").textContent = `realised ${money(p.realised)} · mark-to-market ${money(p.markToMarket)}`;
    fill(
      "realised",
      p.markets.map((m) => [
        cell(m.eventId + " " + m.outcome + (m.final ? "" : " (settling)")),
        cell(m.winningLeg),
        cell(money(m.realised)),
        cell(money(m.spread)),
        cell(money(m.fees)),
        cell(money(m.slippage)),
        cell(money(m.unhedged)),
        cell(money(m.redemption)),
      ])
    );
    $("no-realised").hidden = p.markets.length > 0;
    fill(
      "failures",
      d.dashboard.recentFailures.map((f) => [
        cell(when(f.createdAt)),
        cell(f.eventId + " " + f.outcome),
        cell(f.hedgeId),
        cell(f.status, "bad"),
        cell(f.failureReason),
      ])
    );
    showPolicies(d.dashboard.policies);
    fill("config", d.config.map((c) => [cell(c.key), cell(c.value), cell(c.version), cell(c.updatedBy)]));
    fill(
      "history",
      d.configHistory.map((c) => [
        cell(when(c.changedAt)),
        cell(c.key),
        cell((c.oldValue === null ? "(default)" : c.oldValue) + " → " + c.newValue),
        cell(c.changedBy),
        cell(c.reason),
      ])
    );
  }

  // Per policy: the table's row and its exposure chart (each span's peak, at the span's end).
  function showPolicies(policies) {
    const latest = (points) => [...points].reverse().find((p) => p.last !== null);
    fill(
      "policies",
      policies.map((p) => {
        const now = latest(p.unhedgedExposure);
        return [
          cell(p.policy),
          cell(p.orders.orders),
          cell(p.orders.accepted),
          cell(p.venueOrders),
          cell(p.fees),
          cell(now ? now.last : "–"),
        ];
      })
    );
    for (const p of policies) {
      const points = p.unhedgedExposure.filter((e) => e.peak !== null).map((e) => [Date.parse(e.to), Number(e.peak)]);
      window.HedgingCharts.lineChart($("chart-exposure-" + p.policy), points, (v) => v.toFixed(2));
    }
  }

  async function refreshCharts() {
    const now = Date.now();
    const starts = [...Array(BUCKETS).keys()].map((i) => now - (BUCKETS - i) * BUCKET_MS);
    const fields = starts.map(
      (s, i) =>
        `b${i}: dashboard(range: {from: "${new Date(s).toISOString()}", to: "${new Date(s + BUCKET_MS).toISOString()}"}) ` +
        "{ hedges { successRate netProfit fees } }"
    );
    const d = await gql("{ " + fields.join(" ") + " }");
    let pnl = 0, fees = 0;
    const success = [], pnls = [], feeSeries = [];
    starts.forEach((s, i) => {
      const h = d["b" + i].hedges, at = s + BUCKET_MS;
      if (h.successRate !== null) success.push([at, Number(h.successRate) * 100]);
      pnl += Number(h.netProfit);
      fees += Number(h.fees);
      pnls.push([at, pnl]);
      feeSeries.push([at, fees]);
    });
    const charts = window.HedgingCharts;
    charts.lineChart($("chart-success"), success, (v) => v.toFixed(0) + "%");
    charts.lineChart($("chart-pnl"), pnls, (v) => v.toFixed(2));
    charts.lineChart($("chart-fees"), feeSeries, (v) => v.toFixed(2));
  }

  async function act(name) {
    const reason = $("reason").value.trim() || "from the operator console";
    const result = $("action-result");
    result.className = "";
    result.textContent = "…";
    try {
      const d = await gql(
        `mutation($r: String!) { ${name}(input: {reason: $r}) { __typename
           ... on BreakersSuccess { breakers { state } }
           ... on UserError { message } } }`,
        { r: reason }
      );
      const answer = d[name];
      if (answer.__typename === "BreakersSuccess") {
        result.textContent = `${name}: trading ${answer.breakers.state}`;
        result.className = "good";
      } else {
        result.textContent = answer.message;
        result.className = "bad";
      }
    } catch (err) {
      result.textContent = err.message;
      result.className = "bad";
    }
    await refresh();
  }

  function follow() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
    const ws = new WebSocket(url, "graphql-transport-ws");
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: "Bearer " + token } }));
    ws.onmessage = (message) => {
      const m = JSON.parse(message.data);
      if (m.type === "connection_ack") {
        $("feed-status").textContent = "feed: live";
        ws.send(
          JSON.stringify({
            id: "feed",
            type: "subscribe",
            payload: {
              query: "subscription { hedgeEvents(filter: {fromNow: true}) { id type createdAt eventId outcome message } }",
            },
          })
        );
      } else if (m.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (m.type === "next" && m.payload.data) {
        const e = m.payload.data.hedgeEvents;
        const li = document.createElement("li");
        li.dataset.eventId = e.id;
        li.textContent = `${when(e.createdAt)} #${e.id} ${e.type} ${e.eventId || ""} ${e.outcome || ""} ${e.message}`;
        const feed = $("feed");
        feed.prepend(li);
        while (feed.children.length > 100) feed.lastChild.remove();
      } else if (m.type === "error") {
        $("feed-status").textContent = "feed: " + m.payload.map((e) => e.message).join("; ");
      }
    };
    ws.onclose = () => {
      $("feed-status").textContent = "feed: reconnecting";
      setTimeout(follow, 2000);
    };
  }

  async function refresh() {
    try {
      showState(await gql(STATE));
    } catch (err) {
      if (err instanceof Refused) return login(err.message);
      $("action-result").textContent = err.message;
    }
  }

  function login(message) {
    $("main").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function start() {
    $("login").hidden = true;
    $("main").hidden = false;
    await refresh();
    if ($("main").hidden) return;
    refreshCharts().catch((err) => ($("figures").textContent = err.message));
    follow();
    setInterval(refresh, 3000);
    setInterval(() => refreshCharts().catch(() => {}), 15000);
  }

  $("halt").addEventListener("click", () => act("halt"));
  $("resume").addEventListener("click", () => act("resume"));
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token").value.trim();
    sessionStorage.setItem(KEY, token);
    start();
  });
  if (token) start();
  else login();
})();
