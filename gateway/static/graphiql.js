// GraphiQL on the gateway's own copies of its scripts. The bearer token the console keeps for this tab
// (sessionStorage) is sent with every request; without one, put it in the Headers tab.
(function () {
  "use strict";
  const token = sessionStorage.getItem("hedging.token");
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  const fetcher = GraphiQL.createFetcher({
    url: "/graphql",
    subscriptionUrl: ws,
    headers: headers,
    wsConnectionParams: headers,
  });
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify(headers),
      defaultEditorToolsVisibility: true,
    })
  );
})();
