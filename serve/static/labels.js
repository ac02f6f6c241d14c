/* swarmlens dashboard: the stance labels, read from the API (GET /info) rather than written into
 * the page, so a new or renamed label needs no change here. Builds every label-dependent piece
 * of the page: filter checkboxes, stat boxes, table columns, the footer glossary and colours.
 *
 * Colours reach the CSS as custom properties: `--c` on each element that shows a label, and
 * `--flood` on the root for the flood-share figures.
 */
(function (SL) {
  "use strict";

  const { $, $$, esc, api } = SL.util;

  const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/; // the names end up in ids and URL parameters
  const COLOUR = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
  const FALLBACK_COLOUR = "#95a5a6";

  let list = []; // [{name, colour, description}] in score order, as /info lists them
  let floodPair = null; // {num, den: [..]} from /info flood_share; null hides the figure

  function clean(raw) {
    if (!raw || typeof raw !== "object" || typeof raw.name !== "string" || !NAME.test(raw.name)) return null;
    return {
      name: raw.name,
      colour: typeof raw.colour === "string" && COLOUR.test(raw.colour) ? raw.colour : FALLBACK_COLOUR,
      description: typeof raw.description === "string" ? raw.description : "",
    };
  }

  /** Fetch the labels and build the page parts that show them. Throws on failure. */
  async function load() {
    const info = await api("info", "/info");
    const labels = (Array.isArray(info.labels) ? info.labels : []).map(clean).filter(Boolean);
    if (!labels.length) throw new Error("the server lists no stance labels");
    list = labels;
    const known = new Set(labels.map((l) => l.name));
    const f = info.flood_share || {};
    const den = Array.isArray(f.denominator) ? f.denominator.filter((n) => known.has(n)) : [];
    floodPair = known.has(f.numerator) && den.length ? { num: f.numerator, den: den } : null;
    build();
    return list;
  }

  function all() {
    return list.slice();
  }

  function names() {
    return list.map((l) => l.name);
  }

  function isAll(selected) {
    return selected.length === list.length && list.every((l) => selected.includes(l.name));
  }

  function title(name) {
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  /**
   * Flood share = num / (den[0] + den[1]): the share of counter-speech among stance-taking posts.
   * The pair comes from /info (flood_share), as the API's own flood_share figures use it.
   */
  function flood() {
    return floodPair;
  }

  function floodDefinition() {
    const f = flood();
    return f ? f.num + " ÷ (" + f.den.join(" + ") + ")" : "";
  }

  /* -------------------------------------------------------------- build */

  function swatch(l) {
    return '<span class="swatch" style="--c:' + l.colour + '"></span>';
  }

  function build() {
    const f = flood();
    if (f) document.documentElement.style.setProperty("--flood", list.find((l) => l.name === f.num).colour);

    // Filter checkboxes (app.js reads and sets them by name="label").
    $(".label-checks").innerHTML = list
      .map(
        (l) =>
          '<label class="check" title="' + esc(l.description) + '"><input type="checkbox" name="label" value="' + l.name + '" checked>' +
          swatch(l) + esc(l.name) + "</label>"
      )
      .join("");

    // One stat box per label, between the flood share and the total.
    $$(".stats .stat[data-stat]").forEach((el) => el.remove());
    const total = $(".stats .stat-total");
    list.forEach((l) => {
      const box = document.createElement("div");
      box.className = "stat";
      box.setAttribute("data-stat", l.name);
      box.innerHTML =
        '<div class="stat-label" title="' + esc(l.description) + '">' + swatch(l) + esc(title(l.name)) + "</div>" +
        '<div id="total-' + l.name + '" class="stat-value">–</div>' +
        '<div class="stat-note" id="pct-' + l.name + '">&nbsp;</div>';
      total.before(box);
    });
    $(".stat-flood .stat-label").title = floodDefinition() + ", summed over the series";

    // Table columns: full names on the wide top-hashtags table, abbreviations on the domains.
    const th = (l, text) =>
      '<th class="num label-col" data-label="' + l.name + '" style="--c:' + l.colour + '" title="' + esc(l.name) + '">' + esc(text) + "</th>";
    $$("#top-hashtags thead .label-col, #top-domains thead .label-col").forEach((el) => el.remove());
    $("#top-hashtags thead .col-total").insertAdjacentHTML("afterend", list.map((l) => th(l, title(l.name))).join(""));
    $("#top-domains thead .col-total").insertAdjacentHTML("afterend", list.map((l) => th(l, title(l.name.slice(0, 3)) + ".")).join(""));
    $$("th.col-flood").forEach((el) => (el.title = floodDefinition()));
    $$("tr.placeholder td[colspan]").forEach((td) => (td.colSpan = $$("thead th", td.closest("table")).length));

    // Footer glossary: "a (what a means), b (…) or c (…)".
    const items = list.map(
      (l) => '<b class="label-name" style="--c:' + l.colour + '">' + esc(l.name) + "</b>" + (l.description ? " (" + esc(l.description) + ")" : "")
    );
    $("#label-glossary").innerHTML = items.length > 1 ? items.slice(0, -1).join(", ") + " or " + items[items.length - 1] : items.join("");
  }

  SL.labels = {
    load: load,
    all: all,
    names: names,
    isAll: isAll,
    flood: flood,
    floodDefinition: floodDefinition,
  };
})((window.swarmlens = window.swarmlens || {}));
