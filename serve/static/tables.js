/* swarmlens dashboard: the three tables (top hashtags, top linked domains, emerging hashtags).
 *
 * Each loader fetches, renders and sets the table's data-state ("loading", "ready", "empty",
 * "error"). It resolves to the items, to null after an error (already shown in the banner), or
 * to undefined when a newer request replaced it.
 */
(function (SL) {
  "use strict";

  const { $, $$, esc, tagHtml, tagText, fmtNum, fmtPct, fmtShort, parseTime, api, showError } = SL.util;

  const TOP_LIMIT = 20;
  const DOMAIN_LIMIT = 20;
  const EMERGING_LIMIT = 20;

  const seq = { top: 0, domains: 0, emerging: 0 }; // the newest request per table wins
  let emptyEmerging = "No hashtag is bursting in this window.";
  let selected = ""; // canonical key of the charted hashtag, highlighted in the tables

  function placeholderRow(table, text, cls) {
    const cols = $$("thead th", table).length;
    $("tbody", table).innerHTML =
      '<tr class="placeholder' + (cls ? " " + cls : "") + '"><td colspan="' + cols + '">' + esc(text) + "</td></tr>";
  }

  function miniBar(item, max) {
    const labels = SL.labels.all();
    const total = Number(item.total) || 0;
    const width = max ? Math.max(2, (total / max) * 100) : 0;
    const parts = labels
      .filter((l) => typeof item[l.name] === "number" && item[l.name] > 0)
      .map((l) => '<span class="seg" style="flex-grow:' + item[l.name] + ";background:" + l.colour + '"></span>')
      .join("");
    const title = labels
      .filter((l) => typeof item[l.name] === "number")
      .map((l) => l.name + " " + fmtNum(item[l.name]))
      .join(", ");
    return '<div class="minibar" style="width:' + width.toFixed(1) + '%" title="' + esc(title) + '">' + parts + "</div>";
  }

  function countCells(item) {
    return SL.labels
      .names()
      .map((l) => '<td class="num">' + (typeof item[l] === "number" ? fmtNum(item[l]) : '<span class="dim">–</span>') + "</td>")
      .join("");
  }

  function floodCell(share) {
    if (typeof share !== "number" || !isFinite(share)) return '<td class="num dim" title="no stance-taking posts">–</td>';
    const pct = Math.max(0, Math.min(1, share));
    return '<td class="num flood-cell"><span class="flood-pip" style="--p:' + (pct * 100).toFixed(1) + '%"></span>' + fmtPct(share) + "</td>";
  }

  /** Run `render` for the newest request of `which`; keep the table's state attributes right. */
  async function load(which, table, request, render, failText, what) {
    const token = ++seq[which];
    table.setAttribute("data-state", "loading");
    table.classList.add("is-loading");
    try {
      const data = await request();
      if (token !== seq[which]) return undefined;
      const items = render(data);
      if (!items.length) placeholderRow(table, failText.empty);
      markSelected();
      table.setAttribute("data-state", items.length ? "ready" : "empty");
      return items;
    } catch (err) {
      if (err.name === "AbortError" || token !== seq[which]) return undefined;
      placeholderRow(table, failText.error, "is-error");
      table.setAttribute("data-state", "error");
      showError(what, err);
      return null;
    } finally {
      if (token === seq[which]) table.classList.remove("is-loading");
    }
  }

  /** query: {start, end, label, lang} for the API; filters: words for the subtitle. */
  function loadTop(query, filters) {
    const table = $("#top-hashtags");
    return load(
      "top",
      table,
      () => api("top", "/v1/hashtags/top", Object.assign({}, query, { limit: TOP_LIMIT })),
      (data) => {
        const items = Array.isArray(data.hashtags) ? data.hashtags : [];
        $("#top-subtitle").textContent =
          "By number of posts" + (filters.length ? " · " + filters.join(" · ") : " in the scored data") + ". Click a row to chart it.";
        const max = Math.max(0, ...items.map((h) => Number(h.total) || 0));
        $("tbody", table).innerHTML = items
          .map(
            (h, i) =>
              '<tr data-hashtag="' + esc(h.hashtag) + '" tabindex="0" title="Chart ' + esc(tagText(shown(h))) + '">' +
              '<td class="col-rank dim">' + (i + 1) + "</td>" +
              '<td class="tag">' + tagHtml(shown(h)) + "</td>" +
              '<td class="num strong">' + fmtNum(h.total) + "</td>" +
              countCells(h) + floodCell(h.flood_share) +
              '<td class="col-bar">' + miniBar(h, max) + "</td></tr>"
          )
          .join("");
        return items;
      },
      { empty: "No hashtags match these filters.", error: "Could not load top hashtags." },
      "Top hashtags"
    );
  }

  function loadDomains(query, filters) {
    const table = $("#top-domains");
    return load(
      "domains",
      table,
      () => api("domains", "/v1/domains/top", Object.assign({}, query, { limit: DOMAIN_LIMIT })),
      (data) => {
        const items = Array.isArray(data.domains) ? data.domains : [];
        $("#domains-subtitle").textContent = "Domains linked in posts, by label" + (filters.length ? " · " + filters.join(" · ") : "") + ".";
        const max = Math.max(0, ...items.map((d) => Number(d.total) || 0));
        $("tbody", table).innerHTML = items
          .map(
            (d) =>
              '<tr data-domain="' + esc(d.domain) + '">' +
              '<td class="domain" dir="auto"><span class="domain-name" title="' + esc(d.domain) + '">' + esc(d.domain) + "</span>" +
              miniBar(d, max) + "</td>" +
              '<td class="num strong">' + fmtNum(d.total) + "</td>" + countCells(d) + "</tr>"
          )
          .join("");
        return items;
      },
      { empty: "No linked domains match these filters.", error: "Could not load domains." },
      "Top domains"
    );
  }

  /** windowHours: the window's length; end: the selected range's end as an API time, or ""
   * for the default (the end of the latest post's hour). */
  function loadEmerging(windowHours, end) {
    const table = $("#emerging-hashtags");
    return load(
      "emerging",
      table,
      () => api("emerging", "/v1/hashtags/emerging", { window_hours: windowHours, end: end || "", limit: EMERGING_LIMIT }),
      (data) => {
        const items = Array.isArray(data.hashtags) ? data.hashtags : [];
        const w = data.window || {};
        const ws = parseTime(w.start);
        const we = parseTime(w.end);
        $("#emerging-window").textContent =
          ws && we
            ? "Window " + fmtShort(ws, true) + " – " + fmtShort(we) + " UTC" + (end ? " (ending at the range's end)" : "") +
              ", against the windows before it."
            : "Recent bursts against their baseline.";
        emptyEmerging = end
          ? "No hashtag is bursting in this window."
          : "No hashtag is bursting in the latest window. Set the range's end to look at an earlier one.";
        const maxBurst = Math.max(...items.map((h) => Number(h.burst_score) || 0), 1e-9);
        $("tbody", table).innerHTML = items
          .map((h) => {
            const b = Number(h.burst_score);
            const bw = isFinite(b) && b > 0 ? Math.max(4, (b / maxBurst) * 100) : 0;
            // Accounts (distinct authors) are what the burst is scored on; posts are beside them.
            const base = Number(h.baseline_accounts ?? h.baseline_per_window);
            const accounts = Number(h.accounts);
            const p = Number(h.p_value);
            const why = isFinite(p) ? "p = " + p.toExponential(1) + " against " + Number(h.expected_accounts).toFixed(2) + " accounts expected" : "";
            return (
              '<tr data-hashtag="' + esc(h.hashtag) + '" tabindex="0" title="Chart ' + esc(tagText(shown(h))) + '">' +
              '<td class="tag">' + tagHtml(shown(h)) + "</td>" +
              '<td class="num burst" title="' + esc(why) + '"><span class="burst-bar" style="width:' + bw.toFixed(0) + '%"></span><span class="burst-val">' +
              (isFinite(b) ? b.toFixed(1) : "–") + "</span></td>" +
              '<td class="num strong accounts">' + (isFinite(accounts) ? fmtNum(accounts) : "–") + "</td>" +
              '<td class="num posts">' + fmtNum(h.recent) + "</td>" +
              '<td class="num dim">' + (isFinite(base) ? (base < 10 ? base.toFixed(1) : fmtNum(Math.round(base))) : "–") + "</td></tr>"
            );
          })
          .join("");
        return items;
      },
      {
        get empty() {
          return emptyEmerging;
        },
        error: "Could not load emerging hashtags.",
      },
      "Emerging hashtags"
    );
  }

  function markSelected() {
    $$("tr[data-hashtag]").forEach((tr) => {
      const on = !!selected && tr.getAttribute("data-hashtag") === selected;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  /** The spelling to show for a row ({hashtag: key, display}), remembered for the chart. */
  const displays = {};
  function shown(h) {
    const form = typeof h.display === "string" && h.display ? h.display : h.hashtag;
    displays[h.hashtag] = form;
    return form;
  }

  /** Remember how a key is spelled (the `display` of a volume answer). */
  function remember(key, form) {
    if (key && typeof form === "string" && form) displays[key] = form;
  }

  /** The spelling last shown for a key (the key itself when none was). */
  function display(key) {
    return displays[key] || key;
  }

  /** Highlight the rows of the charted hashtag ("" for none). */
  function select(key) {
    selected = key || "";
    markSelected();
  }

  SL.tables = { loadTop: loadTop, loadDomains: loadDomains, loadEmerging: loadEmerging, select: select, display: display, remember: remember };
})((window.swarmlens = window.swarmlens || {}));
