/* swarmlens dashboard: the retweet network of the charted hashtag (GET /v1/hashtags/{tag}/network).
 *
 * Three parts: a drawing of the largest communities (the server lays them out with a seeded
 * spring layout; this draws dots and lines on a canvas, coloured by each community's
 * majority stance), the communities table (size, stance mix, centralization, resilience) and
 * coordination: by kind (co-link, co-retweet, co-reply, co-similar-text: pairs, accounts,
 * groups, the largest group) and the link groups with their links. Loaded after tables.js,
 * before app.js.
 */
(function (SL) {
  "use strict";

  const { $, esc, tagHtml, tagText, fmtNum, fmtPct, api, showError } = SL.util;

  const SHOWN_COMMUNITIES = 15;
  const SHOWN_GROUPS = 10;
  const KINDS = { link: "co-link", retweet: "co-retweet", reply: "co-reply", text: "co-similar-text" };
  let seq = 0;
  let last = null; // the last answer, redrawn when the window is resized

  function mixBar(counts) {
    const labels = SL.labels.all();
    const parts = labels
      .filter((l) => (counts[l.name] || 0) > 0)
      .map((l) => '<span class="seg" style="flex-grow:' + counts[l.name] + ";background:" + l.colour + '"></span>')
      .join("");
    const title = labels.map((l) => l.name + " " + fmtNum(counts[l.name] || 0)).join(", ");
    return '<div class="minibar" style="width:100%" title="' + esc(title) + '">' + parts + "</div>";
  }

  /** The colour of a community: that of the label most of its accounts' posts carry. */
  function majorityColour(counts) {
    let best = null;
    SL.labels.all().forEach((l) => {
      if ((counts[l.name] || 0) > 0 && (!best || counts[l.name] > counts[best.name])) best = l;
    });
    return best ? best.colour : "#95a5a6";
  }

  function draw(data) {
    const canvas = $("#network-canvas");
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = canvas.clientHeight || 360;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const nodes = data.drawing.nodes;
    const colours = {};
    data.communities.forEach((c) => (colours[c.id] = majorityColour(c.labels)));
    const pad = 14;
    const px = (x) => pad + ((x + 1) / 2) * (width - 2 * pad);
    const py = (y) => pad + ((y + 1) / 2) * (height - 2 * pad);
    ctx.strokeStyle = "rgba(120,120,120,0.25)";
    ctx.lineWidth = 0.6;
    data.drawing.edges.forEach((e) => {
      const a = nodes[e[0]];
      const b = nodes[e[1]];
      ctx.beginPath();
      ctx.moveTo(px(a.x), py(a.y));
      ctx.lineTo(px(b.x), py(b.y));
      ctx.stroke();
    });
    nodes.forEach((n) => {
      ctx.beginPath();
      ctx.fillStyle = colours[n.community] || "#95a5a6";
      ctx.arc(px(n.x), py(n.y), 2 + Math.sqrt(n.in_strength), 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.setAttribute("data-nodes", String(nodes.length));
  }

  function renderCommunities(data) {
    const rows = data.communities.slice(0, SHOWN_COMMUNITIES).map((c) => {
      const resilience = typeof c.resilience === "number" ? fmtPct(c.resilience, 0) : "–";
      return (
        '<tr data-community="' + c.id + '"><td class="num">' + c.id + '</td><td class="num">' + fmtNum(c.size) +
        "</td><td>" + mixBar(c.labels) + '</td><td class="num">' + c.centralization.toFixed(2) +
        '</td><td class="num">' + resilience + "</td><td>" + accountsHtml(c.top_accounts.slice(0, 3)) + "</td></tr>"
      );
    });
    $("#network-communities tbody").innerHTML =
      rows.join("") || '<tr class="placeholder"><td colspan="6">No retweets of this hashtag in the range.</td></tr>';
  }

  function renderGroups(data) {
    const coord = data.coordination;
    const kinds = Object.keys(KINDS)
      .filter((k) => coord.by && coord.by[k])
      .map((k) => {
        const found = coord.by[k];
        if (!found.available) {
          return (
            '<tr data-kind="' + k + '"><td>' + KINDS[k] + '</td><td class="num">–</td><td class="num">–</td>' +
            '<td class="num">–</td><td class="subtle">' + esc(found.reason || "not available") + "</td></tr>"
          );
        }
        const top = found.groups[0];
        const largest = top
          ? accountsHtml(top.accounts.slice(0, 5)) + (top.accounts.length > 5 ? ", …" : "") +
            ' <span class="subtle">' + fmtNum(top.co_actions) + " co-actions on " + fmtNum(top.items.length) + " " + esc(found.items) + "</span>"
          : '<span class="subtle">none</span>';
        return (
          '<tr data-kind="' + k + '"><td>' + KINDS[k] + '</td><td class="num">' + fmtNum(found.pairs) +
          '</td><td class="num">' + fmtNum(found.accounts) + '</td><td class="num">' +
          fmtNum(data.totals["coordination_" + k] ?? found.groups.length) + "</td><td>" + largest + "</td></tr>"
        );
      });
    $("#network-coord tbody").innerHTML =
      kinds.join("") || '<tr class="placeholder"><td colspan="5">No coordination data.</td></tr>';
    $("#network-min").textContent = String(coord.min_co_actions);
    const items = coord.groups.slice(0, SHOWN_GROUPS).map(
      (g) =>
        '<li class="coord-group"><div><strong>' + accountsHtml(g.accounts) + "</strong> <span class=\"subtle\">" +
        fmtNum(g.co_shares) + " co-shares</span></div><ul>" +
        g.urls.slice(0, 8).map((u) => "<li><code>" + esc(u) + "</code></li>").join("") + "</ul></li>"
    );
    $("#network-groups").innerHTML =
      items.join("") || '<li class="placeholder">No group shared the same links within ' + data.coordination_window_s + " s.</li>";
  }

  /** Account handles, each isolated so that a right-to-left one cannot reorder the list. */
  function accountsHtml(accounts) {
    return accounts.map((a) => "<bdi>" + esc(a) + "</bdi>").join(", ");
  }

  /** The subtitle quotes the tag as people write it (the key is what the API answers with),
   * isolated in its own direction: "#باريس_تشتعل: 135 retweets…" keeps its '#' and colon. */
  function retitle() {
    if (!last) return;
    const data = last;
    $("#network-subtitle").innerHTML =
      tagHtml(SL.tables.display(data.hashtag)) + ": " + esc(fmtNum(data.retweets)) + " retweets among " +
      esc(fmtNum(data.totals.accounts)) + " accounts, " + esc(fmtNum(data.totals.communities)) + " communities (" +
      esc(data.method) + "). Coloured by majority stance (classify-and-count).";
    $("#network-canvas").setAttribute("aria-label", "Drawing of the largest retweet communities of " + tagText(SL.tables.display(data.hashtag)));
  }

  function render(data) {
    last = data;
    retitle();
    $("#network-window").textContent = data.coordination_window_s + " s";
    draw(data);
    renderCommunities(data);
    renderGroups(data);
  }

  /** st: the dashboard's state ({hashtag, start, end} in local-time form, see app.js). */
  async function load(st) {
    const card = $("#network-card");
    if (!st.hashtag) return;
    const token = ++seq;
    card.setAttribute("data-state", "loading");
    try {
      const data = await api("network", "/v1/hashtags/" + encodeURIComponent(st.hashtag) + "/network", {
        start: st.start ? SL.util.localToIso(st.start) : "",
        end: st.end ? SL.util.localToIso(st.end) : "",
      });
      if (token !== seq) return;
      render(data);
      card.setAttribute("data-state", data.communities.length ? "ready" : "empty");
    } catch (err) {
      if (err.name === "AbortError" || token !== seq) return;
      card.setAttribute("data-state", "error");
      showError("Network", err);
    }
  }

  window.addEventListener("resize", () => {
    if (last) draw(last);
  });

  SL.network = { load: load, retitle: retitle };
})((window.swarmlens = window.swarmlens || {}));
