// The bridge between the app and Model Explorer's web app, inside the component's iframe.
//
// Model Explorer's page asks its own server for everything: the graphs (/api/v1/load_graphs_json),
// the overlays (/api/v1/load_node_data) and, given a path, any file (/api/v1/read_text_file,
// /read_file).
// Here there is no such server. This script runs before Model Explorer's code and answers those
// requests from the data the app sent through Streamlit's component protocol (graph JSON
// converted on the server, node data built from the run's measurements); every other /api/
// request, a file path included, is refused here, in the browser. The only files the iframe
// loads from the server are Model Explorer's own web files, served by Streamlit from one
// fixed folder.
(function () {
  "use strict";
  var base = location.pathname.replace(/[^/]*$/, "");
  var data = null;
  var JSON_LOADER = {id: "builtin_json", type: "adapter", fileExts: ["json"],
                     name: "JSON adapter", description: "graphs converted by the app"};

  function send(type, extra) {
    var message = {isStreamlitMessage: true, type: type};
    for (var key in extra || {}) message[key] = extra[key];
    window.parent.postMessage(message, "*");
  }

  function reply(body, status) {
    return new Response(JSON.stringify(body), {
      status: status || 200, headers: {"Content-Type": "application/json"}});
  }

  function indexParam(url, name) {
    var value = Number(url.searchParams.get(name));
    return Number.isInteger(value) && value >= 0 ? value : -1;
  }

  function answer(url) {
    var path = url.pathname;
    // only Model Explorer's JSON loader: the graphs arrive converted
    if (path === "/api/v1/get_extensions") return reply([JSON_LOADER]);
    if (path === "/api/v1/check_new_version") {
      return reply({version: "", runningVersion: "", releaseUrl: "", desktopAppUrl: ""});
    }
    if (path === "/api/v1/load_graphs_json") {
      var graph = data.graphs[indexParam(url, "graph_index")];
      return graph ? reply(graph) : reply({error: "no such graph"}, 404);
    }
    if (path === "/api/v1/load_node_data") {
      var overlay = data.nodeData[indexParam(url, "node_data_index")];
      return overlay ? reply({content: JSON.stringify(overlay)})
                     : reply({error: "no such overlay"}, 404);
    }
    return reply({error: "refused: this graph view reads no files, only the graphs the " +
                         "app sent"}, 403);
  }

  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = new URL(typeof input === "string" ? input : input.url, location.href);
    if (url.origin === location.origin &&
        /^\/(api(post|stream)?\/|read_file)/.test(url.pathname)) {
      return Promise.resolve(answer(url));
    }
    return realFetch(input, init);
  };
  // Model Explorer listens to its server for "refresh the page"; nothing to listen to here.
  window.EventSource = function () {
    this.addEventListener = function () {};
    this.close = function () {};
  };

  function start(args) {
    data = args;
    var query = new URLSearchParams();
    query.set("data", JSON.stringify(args.url));
    if (args.renderer) query.set("renderer", args.renderer);
    history.replaceState(null, "", base + "?" + query.toString());
    (document.getElementById("bridge").dataset.scripts || "").split(" ").forEach(function (src) {
      if (!src) return;
      var tag = document.createElement("script");
      tag.type = "module";
      tag.src = src;
      document.body.appendChild(tag);
    });
    send("streamlit:setFrameHeight", {height: args.height || 640});
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data) return;
    if (event.data.type === "streamlit:render" && data === null) start(event.data.args);
  });
  send("streamlit:componentReady", {apiVersion: 1});
})();
