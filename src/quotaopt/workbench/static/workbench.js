/* The workbench page's script: send the page state as JSON, swap in the HTML the server renders.
 *
 * No framework and no CDN: the server renders (and escapes) every fragment; this script
 * only collects the knobs and locks, posts them, and puts the answer in its place. Text
 * typed by users is never inserted as HTML here.
 */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) { return { ok: response.ok, status: response.status, text: text }; });
    });
  }

  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  // ---- the plan page ------------------------------------------------------------------
  function planPage(root) {
    var slug = root.getAttribute("data-slug");
    var start = JSON.parse($("#start").textContent);
    var state = copy(start), previous = null, timer = null, ticket = 0;
    var sortCol = null, sortAsc = true;

    function showKnobs() {
      all("[data-knob]").forEach(function (el) {
        var name = el.getAttribute("data-knob"), kind = el.getAttribute("data-kind");
        var value = state.knobs[name];
        if (kind === "pair") {
          var part = parseInt(el.getAttribute("data-part"), 10);
          el.value = value === null || value === undefined ? "" : value[part];
        } else if (kind === "percent") {
          el.value = value === null || value === undefined ? "" : +(value * 100).toFixed(4);
        } else {
          el.value = value === null || value === undefined ? "" : value;
        }
      });
    }

    function readKnobs() {
      var knobs = {};
      all("[data-knob]").forEach(function (el) {
        var name = el.getAttribute("data-knob"), kind = el.getAttribute("data-kind"), raw = el.value.trim();
        if (kind === "pair") {
          var pair = knobs[name] || [null, null];
          pair[parseInt(el.getAttribute("data-part"), 10)] = raw === "" ? null : parseFloat(raw);
          knobs[name] = pair;
        } else if (kind === "percent") {
          knobs[name] = raw === "" ? null : parseFloat(raw) / 100;
        } else if (kind === "number") {
          knobs[name] = raw === "" ? null : parseFloat(raw);
        } else {
          knobs[name] = raw;
        }
      });
      Object.keys(knobs).forEach(function (name) {  // an emptied pair means "no such limit"
        var v = knobs[name];
        if (Array.isArray(v) && v[0] === null && v[1] === null) { knobs[name] = null; }
      });
      // An amount replaces growth; an emptied amount goes back to growth.
      if (knobs.company !== null && knobs.company !== undefined) { knobs.growth = null; }
      return knobs;
    }

    function status(text, cls) {
      var el = $("#status");
      el.textContent = text;
      el.className = "note " + (cls || "");
    }

    function applyView() {
      var grid = $("#grid");
      if (!grid) { return; }
      var team = $("#team-filter").value;
      $("#team-filter").value = team;
      all("tbody tr", grid).forEach(function (row) {
        row.hidden = team !== "" && row.getAttribute("data-team") !== team;
      });
      if (sortCol !== null) { sortBy(grid, sortCol, sortAsc); }
    }

    function cellKey(cell) {
      var v = cell.getAttribute("data-v");
      if (v === null) { return cell.textContent.trim().toLowerCase(); }
      return v === "" ? null : parseFloat(v);
    }

    function sortBy(grid, col, asc) {
      var body = grid.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
        if (x === null || y === null) { return (x === null) - (y === null); }
        var c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      all("th", grid).forEach(function (h) { h.removeAttribute("data-dir"); });
      grid.tHead.rows[0].cells[col].setAttribute("data-dir", asc ? "asc" : "desc");
    }

    function solve() {
      var mine = ++ticket, began = Date.now(), team = $("#team-filter") ? $("#team-filter").value : "";
      status("Re-planning\u2026", "busy");
      root.setAttribute("data-busy", "yes");
      post("/s/" + slug + "/solve", { settings: state, previous: previous }).then(function (answer) {
        if (mine !== ticket) { return; }  // a newer change is on its way: its answer wins
        root.removeAttribute("data-busy");
        if (!answer.ok) {
          status("The plan was not updated:", "failed");
          $("#plan").insertAdjacentHTML("afterbegin", answer.text);
          state = previous ? copy(previous) : copy(start);
          showKnobs();
          return;
        }
        $("#plan").innerHTML = answer.text;
        if ($("#team-filter")) { $("#team-filter").value = team; }
        applyView();
        previous = copy(state);
        status("Updated in " + ((Date.now() - began) / 1000).toFixed(2) + " s.", "");
        root.setAttribute("data-solved", String(mine));
      }, function () {
        if (mine !== ticket) { return; }
        root.removeAttribute("data-busy");
        status("The workbench server did not answer; is quotaopt serve still running?", "failed");
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var knobs = readKnobs();
        if (JSON.stringify(knobs) === JSON.stringify(state.knobs)) { return; }  // a blur, not a change
        state = copy(state);
        state.knobs = knobs;
        solve();
      }, 300);
    }

    all("[data-knob]").forEach(function (el) { el.addEventListener("change", later); });
    $("#reset").addEventListener("click", function () { state = copy(start); showKnobs(); solve(); });

    $("#plan").addEventListener("click", function (event) {
      var target = event.target;
      var row = target.closest ? target.closest("tr[data-rep]") : null;
      if (target.matches("#grid th[data-col]")) {
        var col = parseInt(target.getAttribute("data-col"), 10);
        sortAsc = sortCol === col ? !sortAsc : true;
        sortCol = col;
        sortBy($("#grid"), col, sortAsc);
        return;
      }
      if (!row) { return; }
      var rep = row.getAttribute("data-rep");
      if (target.matches("button.lock")) { lock(row, rep); }
      if (target.matches("button.unlock")) {
        state = copy(state);
        if (row.getAttribute("data-locked") === "reps.csv") { state.locks[rep] = null; } else { delete state.locks[rep]; }
        solve();
      }
    });
    $("#plan").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.matches("input.quota")) {
        var row = event.target.closest("tr[data-rep]");
        lock(row, row.getAttribute("data-rep"));
      }
    });
    $("#plan").addEventListener("change", function (event) {
      if (event.target.matches("#team-filter")) { applyView(); }
    });

    function lock(row, rep) {
      var value = parseFloat($("input.quota", row).value);
      if (!(value >= 0)) { status("Type a quota of 0 or more to lock " + rep + ".", "failed"); return; }
      state = copy(state);
      state.locks[rep] = value;
      solve();
    }

    $("#save").addEventListener("click", function () {
      var name = $("#version-name").value;
      $("#save-result").textContent = "Saving\u2026";
      post("/s/" + slug + "/versions", { settings: state, name: name }).then(function (answer) {
        $("#save-result").innerHTML = answer.text;
      });
    });

    $("#frontier-run").addEventListener("click", function () {
      $("#frontier").textContent = "Computing the frontier\u2026";
      post("/s/" + slug + "/frontier", { settings: state }).then(function (answer) {
        $("#frontier").innerHTML = answer.text;
      });
    });

    showKnobs();
    solve();
  }

  // ---- the versions page --------------------------------------------------------------
  function versionsPage(root) {
    var slug = root.getAttribute("data-slug");
    root.addEventListener("click", function (event) {
      var target = event.target;
      if (!target.matches("button.move")) { return; }
      var row = target.closest("tr[data-run]");
      var comment = $("textarea.comment-in", row);
      post("/s/" + slug + "/versions/" + encodeURIComponent(row.getAttribute("data-run")) + "/status",
           { to: target.getAttribute("data-to"), comment: comment ? comment.value : "" }).then(function (answer) {
        if (answer.ok) { root.innerHTML = answer.text; } else { $("#move-result", root).innerHTML = answer.text; }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ($("#workbench")) { planPage($("#workbench")); }
    if ($("#versions")) { versionsPage($("#versions")); }
    document.documentElement.setAttribute("data-ready", "yes");
  });
})();
