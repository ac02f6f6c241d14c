/* swarmlens analyst dashboard: the view state, its URL, the form and the volume panel.
 *
 * Loaded last, after util.js, labels.js, chart.js and tables.js. Everything comes from this
 * app's own API: first GET /info for the stance labels (names, colours, order), then /v1/...
 * The chosen view lives in the URL query string, so a view can be reloaded or shared.
 */
(function (SL) {
  "use strict";

  const { $, $$, esc, fmtNum, fmtPct, fmtDay, fmtShort, parseTime, localToIso, isoToLocal } = SL.util;
  const { showError, clearErrors, api } = SL.util;
  const labels = SL.labels;

  const INTERVALS = ["hour", "day"];

  /* ------------------------------------------------------------------ state */

  const DEFAULTS = {
    hashtag: "",
    start: "",
    end: "",
    interval: "hour",
    labels: [], // all labels; filled in once /info has answered
    lang: "",
    minScore: "",
    excludeRetweets: false,
    scale: "count",
    windowHours: "6",
  };

  let state = Object.assign({}, DEFAULTS);
  let volume = null; // last successful volume response + the state it was asked with
  let tablesKey = null; // filters the top/domain tables were last loaded with
  let volumeSeq = 0; // the newest volume request wins
  let emergingKey = null; // [window, end] the emerging table was last loaded with

  function defaults(extra) {
    return Object.assign({}, DEFAULTS, { labels: labels.names() }, extra || {});
  }

  function cleanHashtag(value) {
    return String(value || "")
      .trim()
      .replace(/^#+/, "")
      .trim();
  }

  /* ------------------------------------------------------------ URL <-> state */

  function readUrl() {
    const p = new URLSearchParams(location.search);
    const all = labels.names();
    const st = defaults();
    st.hashtag = cleanHashtag(p.get("hashtag") || "");
    st.start = isoToLocal(p.get("start"));
    st.end = isoToLocal(p.get("end"));
    const interval = p.get("interval");
    st.interval = INTERVALS.includes(interval) ? interval : "hour";
    const chosen = p.getAll("label").filter((l) => all.includes(l));
    st.labels = chosen.length ? all.filter((l) => chosen.includes(l)) : all;
    st.lang = (p.get("lang") || "").trim();
    const ms = p.get("min_score");
    st.minScore = ms !== null && ms !== "" && isFinite(Number(ms)) ? String(Number(ms)) : "";
    st.excludeRetweets = ["true", "1", "yes"].includes((p.get("exclude_retweets") || "").toLowerCase());
    st.scale = p.get("scale") === "share" ? "share" : "count";
    const w = p.get("window_hours");
    st.windowHours = w && /^\d+$/.test(w) ? w : DEFAULTS.windowHours;
    return st;
  }

  function urlFor(st) {
    const p = new URLSearchParams();
    if (st.hashtag) p.set("hashtag", st.hashtag);
    if (st.start) p.set("start", localToIso(st.start));
    if (st.end) p.set("end", localToIso(st.end));
    if (st.interval !== "hour") p.set("interval", st.interval);
    if (!labels.isAll(st.labels)) st.labels.forEach((l) => p.append("label", l));
    if (st.lang) p.set("lang", st.lang);
    if (st.minScore !== "") p.set("min_score", st.minScore);
    if (st.excludeRetweets) p.set("exclude_retweets", "true");
    if (st.scale === "share") p.set("scale", "share");
    if (st.windowHours !== DEFAULTS.windowHours) p.set("window_hours", st.windowHours);
    const qs = p.toString();
    return location.pathname + (qs ? "?" + qs : "");
  }

  function writeUrl(push) {
    const url = urlFor(state);
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  /* ----------------------------------------------------------- form <-> state */

  function fillForm(st) {
    $("#hashtag-input").value = st.hashtag;
    $("#start-input").value = st.start;
    $("#end-input").value = st.end;
    $("#interval-select").value = st.interval;
    $$('input[name="label"]').forEach((cb) => {
      cb.checked = st.labels.includes(cb.value);
    });
    $("#lang-input").value = st.lang;
    $("#min-score-input").value = st.minScore;
    $("#exclude-retweets").checked = st.excludeRetweets;
    $("#window-select").value = st.windowHours;
    setScaleButtons(st.scale);
  }

  function formState() {
    const st = Object.assign({}, state);
    st.hashtag = cleanHashtag($("#hashtag-input").value);
    st.start = $("#start-input").value || "";
    st.end = $("#end-input").value || "";
    st.interval = $("#interval-select").value;
    st.labels = $$('input[name="label"]:checked').map((cb) => cb.value);
    st.lang = $("#lang-input").value.trim();
    const ms = $("#min-score-input").value;
    st.minScore = ms !== "" && isFinite(Number(ms)) ? String(Number(ms)) : "";
    st.excludeRetweets = $("#exclude-retweets").checked;
    return st;
  }

  function describeFilters(st, which) {
    const bits = [];
    if (st.start || st.end) {
      const s = st.start ? fmtShort(parseTime(localToIso(st.start)), true) : "…";
      const e = st.end ? fmtShort(parseTime(localToIso(st.end)), true) : "…";
      bits.push(s + " – " + e + " UTC");
    }
    if (!labels.isAll(st.labels)) bits.push("labels: " + st.labels.join(", "));
    if (st.lang) bits.push("lang " + st.lang);
    if (which === "volume") {
      if (st.minScore !== "") bits.push("min score " + st.minScore);
      if (st.excludeRetweets) bits.push("no retweets");
    }
    return bits;
  }

  /* ----------------------------------------------------------------- model */

  async function loadModel() {
    const el = $("#model-version");
    try {
      const m = await api("model", "/v1/models/current");
      const version = m.model_version || "unknown";
      el.textContent = version;
      const bits = ["model " + version];
      if (m.created_at) bits.push("created " + m.created_at);
      const metrics = m.metrics && typeof m.metrics === "object" ? m.metrics : {};
      Object.keys(metrics).forEach((k) => {
        const v = metrics[k];
        if (typeof v === "number") bits.push(k + " " + (Math.abs(v) <= 1 ? v.toFixed(3) : v));
      });
      el.title = bits.join("\n");
      const f1 = $("#model-metric");
      if (m.synthetic && f1) {
        // A model trained on the generated demo corpus has no quality figure worth showing.
        f1.textContent = m.note || "trained on synthetic demo data";
        f1.classList.add("synthetic");
        f1.hidden = false;
        return;
      }
      const f1Key = Object.keys(metrics).find((k) => /macro.?f1/i.test(k) && typeof metrics[k] === "number");
      if (f1Key && f1) {
        f1.textContent = "CV macro-F1 " + metrics[f1Key].toFixed(2);
        f1.hidden = false;
      }
    } catch (err) {
      if (err.name === "AbortError") return;
      el.textContent = "unavailable";
      el.title = "";
      showError("Model info (/v1/models/current)", err);
    }
  }

  /* ---------------------------------------------------------------- volume */

  function setVolumeLoading(on) {
    const veil = $("#volume-loading");
    clearTimeout(setVolumeLoading.timer);
    $("#volume-chart").setAttribute("aria-busy", on ? "true" : "false");
    if (on) setVolumeLoading.timer = setTimeout(() => (veil.hidden = false), 150);
    else veil.hidden = true;
  }

  async function loadVolume(st) {
    const token = ++volumeSeq;
    $("#volume-chart").setAttribute("data-state", "loading");
    setVolumeLoading(true);
    try {
      const data = await api("volume", "/v1/hashtags/" + encodeURIComponent(st.hashtag) + "/volume", {
        start: localToIso(st.start),
        end: localToIso(st.end),
        interval: st.interval,
        label: st.labels,
        lang: st.lang,
        min_score: st.minScore,
        exclude_retweets: st.excludeRetweets ? "true" : "false",
      });
      if (token !== volumeSeq) return;
      volume = { data: data, st: Object.assign({}, st) };
      renderVolume();
      SL.audit.load(st); // classify-and-count above; the audited estimate where one exists
    } catch (err) {
      if (err.name === "AbortError" || token !== volumeSeq) return;
      volume = null;
      renderVolumeFailure(st);
      showError("Volume for " + SL.util.tagText(SL.tables.display(st.hashtag)), err);
    } finally {
      if (token === volumeSeq) setVolumeLoading(false);
    }
  }

  /** The labels the series carries counts for (unselected ones come back absent or null). */
  function seriesLabels(series, st) {
    const all = labels.names();
    const present = all.filter((l) => series.some((p) => p && typeof p[l] === "number"));
    return present.length ? present : all.filter((l) => st.labels.includes(l));
  }

  function setTitle(key, st, extra, shownAs) {
    const title = $("#chart-title");
    title.innerHTML = "";
    title.append("Volume for ");
    const b = document.createElement("bdi");
    b.className = "tag";
    b.dir = "auto"; // '#' at the start in the tag's own reading direction
    b.textContent = "#" + (shownAs || SL.tables.display(key));
    title.append(b);
    const bits = [st.interval === "day" ? "Daily buckets" : "Hourly buckets"].concat(extra || [], describeFilters(st, "volume"));
    $("#chart-subtitle").textContent = bits.join(" · ");
  }

  function showEmpty(html, cls) {
    const empty = $("#volume-empty");
    empty.className = "empty-state" + (cls ? " " + cls : "");
    empty.innerHTML = html;
    empty.hidden = false;
  }

  function renderVolumeFailure(st) {
    const chart = $("#volume-chart");
    SL.chart.clear(chart);
    chart.setAttribute("data-state", "error");
    chart.setAttribute("data-hashtag", "");
    SL.tables.select("");
    setTitle(st.hashtag, st);
    SL.stats.reset(st.labels);
    $("#chart-legend").innerHTML = "";
    showEmpty("<strong>The series could not be loaded.</strong><span>See the error message above.</span>", "is-error");
  }

  function renderVolume() {
    if (!volume) return;
    const data = volume.data;
    const st = volume.st;
    const series = Array.isArray(data.series) ? data.series : [];
    const shown = seriesLabels(series, st);
    const key = typeof data.hashtag === "string" && data.hashtag ? data.hashtag : st.hashtag;
    // Shown as people spell it; the key stays what the URL and the queries use.
    const shownAs = typeof data.display === "string" && data.display ? data.display : SL.tables.display(key);
    SL.tables.remember(key, shownAs);
    SL.network.retitle(); // the network's subtitle quotes the tag as written too
    const chart = $("#volume-chart");
    chart.setAttribute("data-hashtag", key);
    SL.tables.select(key);

    let extra = [];
    if (series.length) {
      const first = parseTime(series[0].t);
      const last = parseTime(series[series.length - 1].t);
      const fmt = (d) => (st.interval === "day" ? fmtDay(d) : fmtShort(d, true));
      if (first && last) extra.push(fmt(first) + " – " + fmt(last) + " UTC");
      extra.push(fmtNum(series.length) + (series.length === 1 ? " bucket" : " buckets"));
    }
    if (st.start || st.end) extra = extra.slice(1); // the range is in the filter list already
    setTitle(key, st, extra, shownAs);

    const sum = SL.stats.summarise(series, shown);
    SL.stats.render(sum, shown, st);
    const shownLabels = labels.all().filter((l) => shown.includes(l.name));
    renderLegend(shownLabels);

    if (!series.length || sum.grand === 0) {
      SL.chart.clear(chart);
      chart.setAttribute("data-state", "empty");
      const filters = describeFilters(st, "volume");
      showEmpty(
        "<strong>No posts for " + SL.util.tagHtml(shownAs) + "</strong><span>" +
          (filters.length
            ? "Nothing matches these filters (" + esc(filters.join(", ")) + "). Try a wider range or fewer filters."
            : "This hashtag does not occur in the scored data. Check the spelling or pick one from the tables below.") +
          "</span>"
      );
      return;
    }
    $("#volume-empty").hidden = true;
    const f = labels.flood();
    SL.chart.render(chart, {
      series: series,
      labels: shownLabels,
      interval: st.interval,
      share: state.scale === "share",
      hashtag: shownAs,
      flood: f && f.den.every((l) => shown.includes(l)) ? f : null,
    });
    chart.setAttribute("data-state", "ready");
  }

  function renderLegend(shown) {
    $("#chart-legend").innerHTML =
      shown
        .map((l) => '<span class="legend-item"><span class="swatch" style="--c:' + l.colour + '"></span>' + esc(l.name) + "</span>")
        .join("") + '<span class="legend-hint">Hover a bar for exact counts</span>';
  }

  /* ---------------------------------------------------------------- tables */

  function loadTables(st, force) {
    const key = JSON.stringify([st.start, st.end, st.labels, st.lang]);
    if (!force && key === tablesKey) return Promise.resolve(undefined);
    tablesKey = key;
    const query = {
      start: localToIso(st.start),
      end: localToIso(st.end),
      label: labels.isAll(st.labels) ? [] : st.labels,
      lang: st.lang,
    };
    const retryOnError = (items) => {
      if (items === null) tablesKey = null; // load again on the next Update
      return items;
    };
    SL.tables.loadDomains(query, describeFilters(st, "domains")).then(retryOnError);
    return SL.tables.loadTop(query, describeFilters(st, "top")).then(retryOnError);
  }

  /** The emerging table follows the window selector and the selected range's end. */
  function loadEmerging(st, force) {
    const end = localToIso(st.end);
    const key = JSON.stringify([st.windowHours, end]);
    if (!force && key === emergingKey && $("#emerging-hashtags").getAttribute("data-state") !== "error") return;
    emergingKey = key;
    SL.tables.loadEmerging(st.windowHours, end);
  }

  /* ---------------------------------------------------------------- actions */

  function validate(st) {
    if (!st.labels.length) {
      showError("Filters", new Error("select at least one label"));
      return false;
    }
    if (!st.hashtag) {
      showError("Filters", new Error("enter a hashtag"));
      return false;
    }
    return true;
  }

  function run(st, push) {
    clearErrors();
    if (!validate(st)) return;
    state = st;
    writeUrl(push);
    loadVolume(state);
    loadTables(state);
    SL.network.load(state);
    loadEmerging(state);
    if ($("#model-version").textContent === "unavailable") loadModel();
  }

  function chooseHashtag(tag) {
    if (!tag) return;
    const st = formState();
    st.hashtag = tag;
    $("#hashtag-input").value = tag;
    run(st, true);
    const card = $(".chart-card").getBoundingClientRect();
    if (card.top < 0 || card.top > window.innerHeight * 0.5) {
      $(".chart-card").scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  function setScaleButtons(scale) {
    $("#mode-count").classList.toggle("active", scale !== "share");
    $("#mode-count").setAttribute("aria-pressed", scale !== "share" ? "true" : "false");
    $("#mode-share").classList.toggle("active", scale === "share");
    $("#mode-share").setAttribute("aria-pressed", scale === "share" ? "true" : "false");
  }

  function setScale(scale) {
    if (state.scale === scale) return;
    state.scale = scale;
    setScaleButtons(scale);
    writeUrl(false);
    if (volume && $("#volume-chart").getAttribute("data-state") === "ready") renderVolume();
  }

  function bindRowClicks(table) {
    table.addEventListener("click", (ev) => {
      const tr = ev.target.closest("tr[data-hashtag]");
      if (tr) chooseHashtag(tr.getAttribute("data-hashtag"));
    });
    table.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      const tr = ev.target.closest("tr[data-hashtag]");
      if (!tr) return;
      ev.preventDefault();
      chooseHashtag(tr.getAttribute("data-hashtag"));
    });
  }

  function bindControls() {
    $("#controls").addEventListener("submit", (ev) => {
      ev.preventDefault();
      run(formState(), true);
    });
    $("#reset-button").addEventListener("click", () => {
      const st = defaults({ hashtag: cleanHashtag($("#hashtag-input").value), scale: state.scale, windowHours: state.windowHours });
      fillForm(st);
      run(st, true);
    });
    $("#mode-count").addEventListener("click", () => setScale("count"));
    $("#mode-share").addEventListener("click", () => setScale("share"));
    $("#window-select").addEventListener("change", (ev) => {
      state.windowHours = ev.target.value;
      writeUrl(false);
      loadEmerging(state);
    });
    bindRowClicks($("#top-hashtags"));
    bindRowClicks($("#emerging-hashtags"));
    window.addEventListener("popstate", () => {
      const st = readUrl();
      fillForm(st);
      if (st.hashtag) run(st, false);
      else {
        state = st;
        loadTables(state);
        loadEmerging(state);
      }
    });
  }

  async function start() {
    $("#error-dismiss").addEventListener("click", clearErrors);
    loadModel();
    // Every filter, table column and colour depends on the label list: nothing else can start
    // before /info has answered.
    try {
      await labels.load();
    } catch (err) {
      if (err.name === "AbortError") return;
      showError("Stance labels (/info)", err);
      $("#volume-chart").setAttribute("data-state", "error");
      showEmpty("<strong>The dashboard could not start.</strong><span>See the error message above, then reload the page.</span>", "is-error");
      return;
    }
    bindControls();

    state = readUrl();
    fillForm(state);
    writeUrl(false); // normalise what was read
    loadEmerging(state);
    if (state.hashtag) {
      run(state, false);
      return;
    }
    SL.stats.reset(state.labels);
    const top = await loadTables(state, true);
    if (state.hashtag) return; // the user picked one meanwhile
    if (top && top.length) {
      const st = formState();
      if (st.hashtag) return;
      st.hashtag = top[0].hashtag;
      $("#hashtag-input").value = st.hashtag;
      state = st;
      writeUrl(false);
      loadVolume(state);
      SL.network.load(state);
    } else if (top) {
      $("#hashtag-input").placeholder = "type a hashtag";
      showEmpty("<strong>No hashtags yet</strong><span>The scored data holds no hashtags in this range. Type one above.</span>");
      $("#volume-chart").setAttribute("data-state", "empty");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})((window.swarmlens = window.swarmlens || {}));
