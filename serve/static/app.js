/* swarmlens analyst dashboard: vanilla JS, no dependencies, charts drawn as inline SVG.
 *
 * Everything comes from this app's own API (/v1/...). The chosen view lives in the URL
 * query string, so a view can be reloaded or shared.
 */
(function () {
  "use strict";

  const LABELS = ["supportive", "opposing", "neutral"];
  const COLORS = { supportive: "#c0392b", opposing: "#2471a3", neutral: "#7f8c8d" };
  const INTERVALS = ["hour", "day"];
  const TOP_LIMIT = 20;
  const DOMAIN_LIMIT = 20;
  const EMERGING_LIMIT = 20;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const NUM = new Intl.NumberFormat("en-US");

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /* ------------------------------------------------------------------ state */

  const DEFAULTS = {
    hashtag: "",
    start: "",
    end: "",
    interval: "hour",
    labels: LABELS.slice(),
    lang: "",
    minScore: "",
    excludeRetweets: false,
    scale: "count",
    windowHours: "6",
  };

  let state = Object.assign({}, DEFAULTS);
  let volume = null; // last successful volume response + the state it was asked with
  let currentKey = ""; // canonical key of the charted hashtag
  let tablesKey = null; // filters the top/domain tables were last loaded with
  const seq = { volume: 0, top: 0, domains: 0, emerging: 0 };
  const aborts = {};

  /* --------------------------------------------------------------- helpers */

  function esc(value) {
    return String(value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function fmtNum(n) {
    return typeof n === "number" && isFinite(n) ? NUM.format(n) : "–";
  }

  function fmtCompact(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n % 1e6 === 0 ? 0 : 1) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(0) + "k";
    if (n >= 1e3) return (n / 1e3).toFixed(n % 1e3 === 0 ? 0 : 1) + "k";
    return String(n);
  }

  function fmtPct(x, digits) {
    if (typeof x !== "number" || !isFinite(x)) return "–";
    return (x * 100).toFixed(digits === undefined ? 1 : digits) + "%";
  }

  function pad2(n) {
    return String(n).padStart(2, "0");
  }

  function parseTime(t) {
    const d = new Date(t);
    return isNaN(d.getTime()) ? null : d;
  }

  /** "Fri 13 Nov 2015" (UTC). */
  function fmtDay(d, withWeekday) {
    const s = d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
    return withWeekday ? WEEKDAYS[d.getUTCDay()] + " " + s : s;
  }

  function fmtHour(d) {
    return pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes());
  }

  /** "13 Nov 21:00" (UTC), year added when asked. */
  function fmtShort(d, withYear) {
    return (
      d.getUTCDate() +
      " " +
      MONTHS[d.getUTCMonth()] +
      (withYear ? " " + d.getUTCFullYear() : "") +
      " " +
      fmtHour(d)
    );
  }

  /** datetime-local value ("2015-11-13T21:00") -> API time ("2015-11-13T21:00:00Z"); UTC. */
  function localToIso(value) {
    if (!value) return "";
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
    if (!m) return "";
    return m[1] + "T" + m[2] + ":" + m[3] + ":" + (m[4] || "00") + "Z";
  }

  /** Any ISO time from the URL -> datetime-local value in UTC ("" when unreadable). */
  function isoToLocal(value) {
    if (!value) return "";
    let s = String(value).trim();
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += "T00:00";
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) s += "Z";
    const d = parseTime(s);
    if (!d) return "";
    const iso = d.toISOString(); // always UTC
    return d.getUTCSeconds() ? iso.slice(0, 19) : iso.slice(0, 16);
  }

  function cleanHashtag(value) {
    return String(value || "")
      .trim()
      .replace(/^#+/, "")
      .trim();
  }

  function sameLabels(a, b) {
    return a.length === b.length && a.every((x) => b.includes(x));
  }

  /* ------------------------------------------------------------ URL <-> state */

  function readUrl() {
    const p = new URLSearchParams(location.search);
    const st = Object.assign({}, DEFAULTS, { labels: LABELS.slice() });
    st.hashtag = cleanHashtag(p.get("hashtag") || "");
    st.start = isoToLocal(p.get("start"));
    st.end = isoToLocal(p.get("end"));
    const interval = p.get("interval");
    st.interval = INTERVALS.includes(interval) ? interval : "hour";
    const labels = p.getAll("label").filter((l) => LABELS.includes(l));
    st.labels = labels.length ? LABELS.filter((l) => labels.includes(l)) : LABELS.slice();
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
    if (!sameLabels(st.labels, LABELS)) st.labels.forEach((l) => p.append("label", l));
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

  /* --------------------------------------------------------------------- API */

  class ApiError extends Error {}

  function detailMessage(body, text, status, statusText) {
    const detail = body && typeof body === "object" ? body.detail : undefined;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map((d) => {
          if (!d || typeof d !== "object") return String(d);
          const loc = Array.isArray(d.loc)
            ? d.loc.filter((x) => x !== "query" && x !== "path" && x !== "body").join(".")
            : "";
          const msg = d.msg || JSON.stringify(d);
          return loc ? loc + ": " + msg : msg;
        })
        .join("; ");
    }
    if (detail && typeof detail === "object") return detail.msg || JSON.stringify(detail);
    const plain = (text || "").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    if (plain) return plain.slice(0, 300);
    return statusText || "HTTP " + status;
  }

  async function api(channel, path, params) {
    if (aborts[channel]) aborts[channel].abort();
    const ctrl = new AbortController();
    aborts[channel] = ctrl;
    const qs = new URLSearchParams();
    Object.keys(params || {}).forEach((k) => {
      const v = params[k];
      if (v === undefined || v === null || v === "") return;
      if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
      else qs.append(k, String(v));
    });
    const url = path + (qs.toString() ? "?" + qs.toString() : "");
    let resp;
    try {
      resp = await fetch(url, { headers: { Accept: "application/json" }, signal: ctrl.signal });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError("could not reach the server (" + (err && err.message ? err.message : err) + ")");
    }
    const text = await resp.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    if (!resp.ok) {
      const status = (resp.status + " " + (resp.statusText || "")).trim();
      const detail = detailMessage(body, text, resp.status, resp.statusText);
      throw new ApiError(detail && detail !== resp.statusText ? detail + " (HTTP " + status + ")" : "HTTP " + status);
    }
    if (body === null || typeof body !== "object") throw new ApiError("the server sent no JSON");
    return body;
  }

  /* ---------------------------------------------------------------- errors */

  const errors = [];

  function showError(what, err) {
    const msg = what + ": " + (err && err.message ? err.message : String(err));
    if (!errors.includes(msg)) errors.push(msg);
    const list = $("#error-list");
    list.innerHTML = errors.map((m) => "<li>" + esc(m) + "</li>").join("");
    $("#error-banner").hidden = false;
  }

  function clearErrors() {
    errors.length = 0;
    $("#error-list").innerHTML = "";
    $("#error-banner").hidden = true;
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
      const f1Key = Object.keys(metrics).find((k) => /macro.?f1/i.test(k) && typeof metrics[k] === "number");
      const f1 = $("#model-metric");
      if (f1Key && f1) {
        f1.textContent = "macro-F1 " + metrics[f1Key].toFixed(2);
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

  function describeFilters(st, which) {
    const bits = [];
    if (st.start || st.end) {
      const s = st.start ? fmtShort(parseTime(localToIso(st.start)), true) : "…";
      const e = st.end ? fmtShort(parseTime(localToIso(st.end)), true) : "…";
      bits.push(s + " – " + e + " UTC");
    }
    if (!sameLabels(st.labels, LABELS)) bits.push("labels: " + st.labels.join(", "));
    if (st.lang) bits.push("lang " + st.lang);
    if (which === "volume") {
      if (st.minScore !== "") bits.push("min score " + st.minScore);
      if (st.excludeRetweets) bits.push("no retweets");
    }
    return bits;
  }

  function setVolumeLoading(on) {
    const veil = $("#volume-loading");
    clearTimeout(setVolumeLoading.timer);
    $("#volume-chart").setAttribute("aria-busy", on ? "true" : "false");
    if (on) setVolumeLoading.timer = setTimeout(() => (veil.hidden = false), 150);
    else veil.hidden = true;
  }

  async function loadVolume(st) {
    const token = ++seq.volume;
    const chart = $("#volume-chart");
    chart.setAttribute("data-state", "loading");
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
      if (token !== seq.volume) return;
      volume = { data: data, st: Object.assign({}, st) };
      renderVolume();
    } catch (err) {
      if (err.name === "AbortError" || token !== seq.volume) return;
      volume = null;
      renderVolumeFailure(st);
      showError("Volume for #" + st.hashtag, err);
    } finally {
      if (token === seq.volume) setVolumeLoading(false);
    }
  }

  function seriesLabels(series, st) {
    const present = LABELS.filter((l) => series.some((p) => p && Object.prototype.hasOwnProperty.call(p, l)));
    return present.length ? present : LABELS.filter((l) => st.labels.includes(l));
  }

  function resetStats(labels, note) {
    $("#flood-share").textContent = "–";
    $(".stat-flood .stat-note").textContent = note || "opposing ÷ (supportive + opposing)";
    LABELS.forEach((l) => {
      $("#total-" + l).textContent = "–";
      $("#pct-" + l).textContent = labels && !labels.includes(l) ? "not selected" : "\u00a0";
      $('.stat[data-stat="' + l + '"]').classList.toggle("off", !!labels && !labels.includes(l));
    });
    $("#total-all").textContent = "–";
    $("#peak-note").textContent = "\u00a0";
  }

  function setTitle(key, st, extra) {
    const title = $("#chart-title");
    title.innerHTML = "";
    title.append("Volume for ");
    const b = document.createElement("bdi");
    b.className = "tag";
    b.textContent = "#" + key;
    title.append(b);
    const bits = [st.interval === "day" ? "Daily buckets" : "Hourly buckets"].concat(
      extra || [],
      describeFilters(st, "volume")
    );
    $("#chart-subtitle").textContent = bits.join(" · ");
  }

  function renderVolumeFailure(st) {
    const chart = $("#volume-chart");
    chart.innerHTML = "";
    chart.setAttribute("data-state", "error");
    chart.setAttribute("data-hashtag", "");
    currentKey = "";
    markSelectedRows();
    setTitle(st.hashtag, st);
    resetStats(st.labels);
    $("#chart-legend").innerHTML = "";
    const empty = $("#volume-empty");
    empty.className = "empty-state is-error";
    empty.innerHTML = "<strong>The series could not be loaded.</strong><span>See the error message above.</span>";
    empty.hidden = false;
  }

  function renderVolume() {
    if (!volume) return;
    const data = volume.data;
    const st = volume.st;
    const series = Array.isArray(data.series) ? data.series : [];
    const labels = seriesLabels(series, st);
    const key = typeof data.hashtag === "string" && data.hashtag ? data.hashtag : st.hashtag;
    currentKey = key;
    const chart = $("#volume-chart");
    chart.setAttribute("data-hashtag", key);
    markSelectedRows();

    const totals = {};
    labels.forEach((l) => (totals[l] = 0));
    let peak = null;
    series.forEach((p) => {
      let sum = 0;
      labels.forEach((l) => {
        const v = Number(p[l]) || 0;
        totals[l] += v;
        sum += v;
      });
      if (!peak || sum > peak.sum) peak = { sum: sum, t: p.t };
    });
    const grand = labels.reduce((a, l) => a + totals[l], 0);

    let extra = [];
    if (series.length) {
      const first = parseTime(series[0].t);
      const last = parseTime(series[series.length - 1].t);
      if (first && last) {
        extra.push(
          (st.interval === "day" ? fmtDay(first) : fmtShort(first, true)) +
            " – " +
            (st.interval === "day" ? fmtDay(last) : fmtShort(last, true)) +
            " UTC"
        );
      }
      extra.push(fmtNum(series.length) + (series.length === 1 ? " bucket" : " buckets"));
    }
    if (st.start || st.end) extra = extra.slice(1); // the range is in the filter list already
    setTitle(key, st, extra);

    // Stats: totals per label and flood share over the whole series.
    resetStats(labels);
    LABELS.forEach((l) => {
      if (!labels.includes(l)) return;
      $("#total-" + l).textContent = fmtNum(totals[l]);
      $("#pct-" + l).textContent = grand ? fmtPct(totals[l] / grand) + " of posts" : "\u00a0";
    });
    $("#total-all").textContent = fmtNum(grand);
    const flood = $("#flood-share");
    const floodNote = $(".stat-flood .stat-note");
    if (!labels.includes("supportive") || !labels.includes("opposing")) {
      flood.textContent = "n/a";
      floodNote.textContent = "select supportive and opposing";
    } else if (totals.supportive + totals.opposing === 0) {
      flood.textContent = "–";
      floodNote.textContent = "no stance-taking posts";
    } else {
      flood.textContent = fmtPct(totals.opposing / (totals.supportive + totals.opposing));
      floodNote.textContent =
        fmtNum(totals.opposing) + " of " + fmtNum(totals.supportive + totals.opposing) + " stance-taking posts";
    }
    if (peak && peak.sum > 0) {
      const d = parseTime(peak.t);
      $("#peak-note").textContent =
        "peak " + fmtNum(peak.sum) + " at " + (d ? (st.interval === "day" ? fmtDay(d) : fmtShort(d)) : peak.t);
    }

    renderLegend(labels);

    const empty = $("#volume-empty");
    if (!series.length || grand === 0) {
      chart.innerHTML = "";
      chart.setAttribute("data-state", "empty");
      empty.className = "empty-state";
      const filters = describeFilters(st, "volume");
      empty.innerHTML =
        "<strong>No posts for <bdi>#" +
        esc(key) +
        "</bdi></strong><span>" +
        (filters.length
          ? "Nothing matches these filters (" + esc(filters.join(", ")) + "). Try a wider range or fewer filters."
          : "This hashtag does not occur in the scored data. Check the spelling or pick one from the tables below.") +
        "</span>";
      empty.hidden = false;
      return;
    }
    empty.hidden = true;
    chart.setAttribute("data-state", "ready");
    drawChart(series, labels, st);
  }

  function renderLegend(labels) {
    const legend = $("#chart-legend");
    legend.innerHTML =
      labels
        .map(
          (l) =>
            '<span class="legend-item"><span class="swatch" style="background:' + COLORS[l] + '"></span>' + esc(l) + "</span>"
        )
        .join("") + '<span class="legend-hint">Hover a bar for exact counts</span>';
  }

  /* ----------------------------------------------------------------- chart */

  function niceStep(max, count) {
    const raw = max / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return Math.max(1, nice * mag);
  }

  function timeTicks(series, interval, step) {
    // Returns [{i, label, major}] spaced at least ~70 px apart.
    const minPx = 70;
    const hours = interval === "day" ? 24 : 1;
    const candidates = interval === "day" ? [1, 2, 7, 14, 28, 56] : [1, 2, 3, 6, 12, 24, 48, 168, 336];
    let k = candidates[candidates.length - 1];
    for (const c of candidates) {
      if (c * step >= minPx) {
        k = c;
        break;
      }
    }
    const ticks = [];
    let lastYear = null;
    series.forEach((p, i) => {
      const d = parseTime(p.t);
      if (!d) return;
      const dayIndex = Math.floor(d.getTime() / 86400000);
      let hit;
      if (interval === "hour" && k < 24) hit = d.getUTCHours() % k === 0;
      else {
        const days = interval === "hour" ? k / 24 : k;
        hit = d.getUTCHours() === 0 && (days === 7 || days === 14 ? (dayIndex + 3) % days === 0 : dayIndex % days === 0);
      }
      if (!hit) return;
      const midnight = d.getUTCHours() === 0;
      let label;
      if (interval === "hour" && !midnight) label = fmtHour(d);
      else {
        label = d.getUTCDate() + " " + MONTHS[d.getUTCMonth()];
        if (lastYear !== null && d.getUTCFullYear() !== lastYear) label += " " + d.getUTCFullYear();
        lastYear = d.getUTCFullYear();
      }
      ticks.push({ i: i, label: label, major: midnight && interval === "hour" });
    });
    return ticks;
  }

  function bucketLabel(t, interval) {
    const d = parseTime(t);
    if (!d) return String(t);
    if (interval === "day") return fmtDay(d, true) + " (UTC)";
    const e = new Date(d.getTime() + 3600000);
    return fmtDay(d, true) + " · " + fmtHour(d) + "–" + fmtHour(e) + " UTC";
  }

  let chartModel = null; // what the tooltip needs

  function drawChart(series, labels, st) {
    const chart = $("#volume-chart");
    const share = state.scale === "share";
    const width = Math.max(320, Math.floor(chart.clientWidth || 900));
    const height = 320;
    const m = { top: 14, right: 14, bottom: 46, left: 58 };
    const iw = width - m.left - m.right;
    const ih = height - m.top - m.bottom;
    const n = series.length;
    const step = iw / n;
    const gap = step >= 8 ? Math.min(step * 0.2, 6) : step >= 3 ? 0.75 : 0;
    const barW = Math.min(Math.max(step - gap, 0.6), 72); // few buckets: no slabs

    const sums = series.map((p) => labels.reduce((a, l) => a + (Number(p[l]) || 0), 0));
    const maxSum = Math.max(1, ...sums);
    let yMax;
    let yTicks = [];
    if (share) {
      yMax = 1;
      yTicks = [0, 0.25, 0.5, 0.75, 1];
    } else {
      const stepY = niceStep(maxSum, 5);
      yMax = Math.ceil(maxSum / stepY) * stepY;
      for (let v = 0; v <= yMax + 1e-9; v += stepY) yTicks.push(v);
    }
    const y = (v) => m.top + ih - (v / yMax) * ih;

    const out = [];
    out.push(
      '<svg xmlns="' + SVG_NS + '" width="' + width + '" height="' + height + '" viewBox="0 0 ' + width + " " + height +
        '" role="img" aria-label="Stacked ' + (share ? "share" : "volume") + " by label for #" + esc(volume.data.hashtag || st.hashtag) +
        '" class="chart-svg">'
    );
    // Grid + y axis.
    out.push('<g class="grid">');
    yTicks.forEach((v) => {
      const yy = Math.round(y(v)) + 0.5;
      out.push('<line x1="' + m.left + '" x2="' + (width - m.right) + '" y1="' + yy + '" y2="' + yy + '"></line>');
    });
    out.push("</g>");
    out.push('<g class="axis y-axis">');
    yTicks.forEach((v) => {
      out.push(
        '<text x="' + (m.left - 8) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + (share ? Math.round(v * 100) + "%" : fmtCompact(v)) + "</text>"
      );
    });
    out.push(
      '<text class="axis-title" transform="translate(14,' + (m.top + ih / 2) + ') rotate(-90)" text-anchor="middle">' +
        (share ? "share of posts" : "posts per " + st.interval) +
        "</text>"
    );
    out.push("</g>");
    // Hover highlight (below the bars).
    out.push('<rect class="hover-band" x="0" y="' + m.top + '" width="' + Math.max(step, 1) + '" height="' + ih + '" visibility="hidden"></rect>');
    // Stacked bars.
    out.push('<g class="bars" shape-rendering="crispEdges">');
    series.forEach((p, i) => {
      const x = m.left + i * step + (step - barW) / 2;
      const total = sums[i];
      let acc = 0;
      const when = bucketLabel(p.t, st.interval);
      labels.forEach((l) => {
        const v = Number(p[l]) || 0;
        if (v <= 0) return;
        const lo = share ? acc / total : acc;
        const hi = share ? (acc + v) / total : acc + v;
        acc += v;
        const y1 = y(hi);
        const h = Math.max(y(lo) - y1, 1);
        out.push(
          '<rect data-label="' + l + '" data-t="' + esc(p.t) + '" data-count="' + v + '" x="' + x.toFixed(2) + '" y="' + y1.toFixed(2) +
            '" width="' + barW.toFixed(2) + '" height="' + h.toFixed(2) + '" fill="' + COLORS[l] + '"><title>' +
            esc(when + " — " + l + ": " + fmtNum(v)) + "</title></rect>"
        );
      });
    });
    out.push("</g>");
    // X axis.
    const base = Math.round(m.top + ih) + 0.5;
    out.push('<g class="axis x-axis">');
    out.push('<line class="domain" x1="' + m.left + '" x2="' + (width - m.right) + '" y1="' + base + '" y2="' + base + '"></line>');
    const centred = step >= 30;
    let lastX = -Infinity;
    timeTicks(series, st.interval, step).forEach((t) => {
      const x = m.left + t.i * step + (centred ? step / 2 : 0);
      if (x - lastX < 46 || x > width - m.right + 1) return;
      lastX = x;
      const xx = Math.round(x) + 0.5;
      out.push('<line x1="' + xx + '" x2="' + xx + '" y1="' + base + '" y2="' + (base + (t.major ? 7 : 4)) + '"></line>');
      out.push('<text x="' + xx + '" y="' + (base + 19) + '" text-anchor="middle"' + (t.major ? ' class="major"' : "") + ">" + esc(t.label) + "</text>");
    });
    const first = parseTime(series[0].t);
    out.push(
      '<text class="axis-title" x="' + (m.left + iw / 2) + '" y="' + (height - 6) + '" text-anchor="middle">' +
        "time (UTC" + (first ? ", " + MONTHS[first.getUTCMonth()] + " " + first.getUTCFullYear() : "") + ")</text>"
    );
    out.push("</g>");
    // Hover targets: one transparent column per bucket, on top.
    out.push('<g class="hits">');
    series.forEach((p, i) => {
      out.push(
        '<rect class="hit" data-i="' + i + '" x="' + (m.left + i * step).toFixed(2) + '" y="' + m.top + '" width="' + Math.max(step, 0.5).toFixed(2) +
          '" height="' + ih + '"></rect>'
      );
    });
    out.push("</g></svg>");
    chart.innerHTML = out.join("");
    chartModel = { series: series, labels: labels, st: st, step: step, left: m.left, width: width, sums: sums };
  }

  function onChartMove(ev) {
    const target = ev.target;
    const tip = $("#chart-tooltip");
    if (!chartModel || !target || !target.classList || !target.classList.contains("hit")) {
      hideTip();
      return;
    }
    const i = Number(target.getAttribute("data-i"));
    const p = chartModel.series[i];
    if (!p) return hideTip();
    const band = $("#volume-chart .hover-band");
    if (band) {
      band.setAttribute("x", (chartModel.left + i * chartModel.step).toFixed(2));
      band.setAttribute("width", Math.max(chartModel.step, 1).toFixed(2));
      band.setAttribute("visibility", "visible");
    }
    const total = chartModel.sums[i];
    const rows = chartModel.labels
      .slice()
      .reverse()
      .map((l) => {
        const v = Number(p[l]) || 0;
        return (
          '<tr><td><span class="swatch" style="background:' + COLORS[l] + '"></span>' + esc(l) + '</td><td class="num">' + fmtNum(v) +
          '</td><td class="num dim">' + (total ? fmtPct(v / total, 0) : "") + "</td></tr>"
        );
      })
      .join("");
    let flood = "";
    if (chartModel.labels.includes("supportive") && chartModel.labels.includes("opposing")) {
      const s = Number(p.supportive) || 0;
      const o = Number(p.opposing) || 0;
      flood = '<div class="tip-foot">flood share ' + (s + o ? fmtPct(o / (s + o)) : "–") + "</div>";
    }
    tip.innerHTML =
      '<div class="tip-time">' + esc(bucketLabel(p.t, chartModel.st.interval)) + "</div><table>" + rows +
      '<tr class="tip-total"><td>total</td><td class="num">' + fmtNum(total) + "</td><td></td></tr></table>" + flood;
    tip.hidden = false;
    const wrap = $(".chart-wrap").getBoundingClientRect();
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    let x = ev.clientX - wrap.left + 16;
    if (x + tw > wrap.width - 4) x = ev.clientX - wrap.left - tw - 16;
    let yPos = ev.clientY - wrap.top - th / 2;
    yPos = Math.max(4, Math.min(yPos, wrap.height - th - 4));
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = yPos + "px";
  }

  function hideTip() {
    $("#chart-tooltip").hidden = true;
    const band = $("#volume-chart .hover-band");
    if (band) band.setAttribute("visibility", "hidden");
  }

  /* ---------------------------------------------------------------- tables */

  function tableFilterKey(st) {
    return JSON.stringify([st.start, st.end, st.labels, st.lang]);
  }

  function placeholderRow(tbody, cols, text, cls) {
    tbody.innerHTML = '<tr class="placeholder' + (cls ? " " + cls : "") + '"><td colspan="' + cols + '">' + esc(text) + "</td></tr>";
  }

  function miniBar(item, max) {
    const total = Number(item.total) || 0;
    const width = max ? Math.max(2, (total / max) * 100) : 0;
    const parts = LABELS.filter((l) => typeof item[l] === "number" && item[l] > 0)
      .map((l) => '<span class="seg" style="flex-grow:' + item[l] + ";background:" + COLORS[l] + '"></span>')
      .join("");
    const title = LABELS.filter((l) => typeof item[l] === "number")
      .map((l) => l + " " + fmtNum(item[l]))
      .join(", ");
    return '<div class="minibar" style="width:' + width.toFixed(1) + '%" title="' + esc(title) + '">' + parts + "</div>";
  }

  function countCell(item, l) {
    const v = item[l];
    return '<td class="num">' + (typeof v === "number" ? fmtNum(v) : '<span class="dim">–</span>') + "</td>";
  }

  function floodCell(share) {
    if (typeof share !== "number" || !isFinite(share)) return '<td class="num dim" title="no supportive or opposing posts">–</td>';
    const pct = Math.max(0, Math.min(1, share));
    return (
      '<td class="num flood-cell"><span class="flood-pip" style="--p:' + (pct * 100).toFixed(1) + '%"></span>' + fmtPct(share) + "</td>"
    );
  }

  async function loadTop(st) {
    const token = ++seq.top;
    const table = $("#top-hashtags");
    const tbody = $("tbody", table);
    table.setAttribute("data-state", "loading");
    table.classList.add("is-loading");
    try {
      const data = await api("top", "/v1/hashtags/top", {
        start: localToIso(st.start),
        end: localToIso(st.end),
        label: sameLabels(st.labels, LABELS) ? [] : st.labels,
        lang: st.lang,
        limit: TOP_LIMIT,
      });
      if (token !== seq.top) return null;
      const items = Array.isArray(data.hashtags) ? data.hashtags : [];
      const filters = describeFilters(st, "top");
      $("#top-subtitle").textContent =
        "By number of posts" + (filters.length ? " · " + filters.join(" · ") : " in the scored data") + ". Click a row to chart it.";
      if (!items.length) {
        placeholderRow(tbody, 8, "No hashtags match these filters.");
      } else {
        const max = Math.max(...items.map((h) => Number(h.total) || 0));
        tbody.innerHTML = items
          .map(
            (h, i) =>
              '<tr data-hashtag="' + esc(h.hashtag) + '" tabindex="0" title="Chart #' + esc(h.hashtag) + '">' +
              '<td class="col-rank dim">' + (i + 1) + "</td>" +
              '<td class="tag" dir="auto">#' + esc(h.hashtag) + "</td>" +
              '<td class="num strong">' + fmtNum(h.total) + "</td>" +
              countCell(h, "supportive") + countCell(h, "opposing") + countCell(h, "neutral") +
              floodCell(h.flood_share) +
              '<td class="col-bar">' + miniBar(h, max) + "</td></tr>"
          )
          .join("");
      }
      markSelectedRows();
      table.setAttribute("data-state", items.length ? "ready" : "empty");
      return items;
    } catch (err) {
      if (err.name === "AbortError" || token !== seq.top) return null;
      placeholderRow(tbody, 8, "Could not load top hashtags.", "is-error");
      tablesKey = null; // retry on the next Update
      table.setAttribute("data-state", "error");
      showError("Top hashtags", err);
      return null;
    } finally {
      if (token === seq.top) table.classList.remove("is-loading");
    }
  }

  async function loadDomains(st) {
    const token = ++seq.domains;
    const table = $("#top-domains");
    const tbody = $("tbody", table);
    table.setAttribute("data-state", "loading");
    table.classList.add("is-loading");
    try {
      const data = await api("domains", "/v1/domains/top", {
        start: localToIso(st.start),
        end: localToIso(st.end),
        label: sameLabels(st.labels, LABELS) ? [] : st.labels,
        lang: st.lang,
        limit: DOMAIN_LIMIT,
      });
      if (token !== seq.domains) return;
      const items = Array.isArray(data.domains) ? data.domains : [];
      const filters = describeFilters(st, "domains");
      $("#domains-subtitle").textContent =
        "Domains linked in posts, by label" + (filters.length ? " · " + filters.join(" · ") : "") + ".";
      if (!items.length) placeholderRow(tbody, 5, "No linked domains match these filters.");
      else {
        const max = Math.max(...items.map((d) => Number(d.total) || 0));
        tbody.innerHTML = items
          .map(
            (d) =>
              '<tr data-domain="' + esc(d.domain) + '">' +
              '<td class="domain" dir="auto"><span class="domain-name" title="' + esc(d.domain) + '">' + esc(d.domain) + "</span>" + miniBar(d, max) + "</td>" +
              '<td class="num strong">' + fmtNum(d.total) + "</td>" +
              countCell(d, "supportive") + countCell(d, "opposing") + countCell(d, "neutral") +
              "</tr>"
          )
          .join("");
      }
      table.setAttribute("data-state", items.length ? "ready" : "empty");
    } catch (err) {
      if (err.name === "AbortError" || token !== seq.domains) return;
      placeholderRow(tbody, 5, "Could not load domains.", "is-error");
      tablesKey = null;
      table.setAttribute("data-state", "error");
      showError("Top domains", err);
    } finally {
      if (token === seq.domains) table.classList.remove("is-loading");
    }
  }

  async function loadEmerging() {
    const token = ++seq.emerging;
    const table = $("#emerging-hashtags");
    const tbody = $("tbody", table);
    table.setAttribute("data-state", "loading");
    table.classList.add("is-loading");
    try {
      const data = await api("emerging", "/v1/hashtags/emerging", { window_hours: state.windowHours, limit: EMERGING_LIMIT });
      if (token !== seq.emerging) return;
      const items = Array.isArray(data.hashtags) ? data.hashtags : [];
      const w = data.window || {};
      const ws = parseTime(w.start);
      const we = parseTime(w.end);
      $("#emerging-window").textContent =
        ws && we ? "Window " + fmtShort(ws, true) + " – " + fmtShort(we) + " UTC, against the windows before it." : "Recent bursts against their baseline.";
      if (!items.length) placeholderRow(tbody, 4, "No hashtag is bursting in this window.");
      else {
        const maxBurst = Math.max(...items.map((h) => Number(h.burst_score) || 0), 1e-9);
        tbody.innerHTML = items
          .map((h) => {
            const b = Number(h.burst_score);
            const bw = isFinite(b) && b > 0 ? Math.max(4, (b / maxBurst) * 100) : 0;
            const base = Number(h.baseline_per_window);
            return (
              '<tr data-hashtag="' + esc(h.hashtag) + '" tabindex="0" title="Chart #' + esc(h.hashtag) + '">' +
              '<td class="tag" dir="auto">#' + esc(h.hashtag) + "</td>" +
              '<td class="num burst"><span class="burst-bar" style="width:' + bw.toFixed(0) + '%"></span><span class="burst-val">' +
              (isFinite(b) ? b.toFixed(1) : "–") + "</span></td>" +
              '<td class="num strong">' + fmtNum(h.recent) + "</td>" +
              '<td class="num dim">' + (isFinite(base) ? (base < 10 ? base.toFixed(1) : fmtNum(Math.round(base))) : "–") + "</td></tr>"
            );
          })
          .join("");
      }
      markSelectedRows();
      table.setAttribute("data-state", items.length ? "ready" : "empty");
    } catch (err) {
      if (err.name === "AbortError" || token !== seq.emerging) return;
      placeholderRow(tbody, 4, "Could not load emerging hashtags.", "is-error");
      table.setAttribute("data-state", "error");
      showError("Emerging hashtags", err);
    } finally {
      if (token === seq.emerging) table.classList.remove("is-loading");
    }
  }

  function markSelectedRows() {
    $$("tr[data-hashtag]").forEach((tr) => {
      const on = !!currentKey && tr.getAttribute("data-hashtag") === currentKey;
      tr.classList.toggle("selected", on);
      tr.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  function loadTables(st, force) {
    const key = tableFilterKey(st);
    if (!force && key === tablesKey) return Promise.resolve(null);
    tablesKey = key;
    loadDomains(st);
    return loadTop(st);
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
    if ($("#emerging-hashtags").getAttribute("data-state") === "error") loadEmerging();
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
    hideTip();
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

  async function start() {
    $("#controls").addEventListener("submit", (ev) => {
      ev.preventDefault();
      run(formState(), true);
    });
    $("#reset-button").addEventListener("click", () => {
      const st = Object.assign({}, DEFAULTS, { labels: LABELS.slice(), hashtag: cleanHashtag($("#hashtag-input").value), scale: state.scale, windowHours: state.windowHours });
      fillForm(st);
      run(st, true);
    });
    $("#error-dismiss").addEventListener("click", clearErrors);
    $("#mode-count").addEventListener("click", () => setScale("count"));
    $("#mode-share").addEventListener("click", () => setScale("share"));
    $("#window-select").addEventListener("change", (ev) => {
      state.windowHours = ev.target.value;
      writeUrl(false);
      loadEmerging();
    });
    bindRowClicks($("#top-hashtags"));
    bindRowClicks($("#emerging-hashtags"));
    const chart = $("#volume-chart");
    chart.addEventListener("mousemove", onChartMove);
    chart.addEventListener("mouseleave", hideTip);
    let lastWidth = chart.clientWidth;
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => {
        const w = chart.clientWidth;
        if (Math.abs(w - lastWidth) < 2) return;
        lastWidth = w;
        if (volume && chart.getAttribute("data-state") === "ready") {
          hideTip();
          drawChart(chartModel.series, chartModel.labels, chartModel.st);
        }
      }).observe(chart);
    }
    window.addEventListener("popstate", () => {
      const st = readUrl();
      fillForm(st);
      if (st.hashtag) run(st, false);
      else {
        state = st;
        loadTables(state);
      }
    });

    state = readUrl();
    fillForm(state);
    writeUrl(false); // normalise what was read
    loadModel();
    loadEmerging();
    if (state.hashtag) {
      run(state, false);
      return;
    }
    resetStats(state.labels);
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
    } else if (top) {
      $("#hashtag-input").placeholder = "type a hashtag";
      const empty = $("#volume-empty");
      empty.className = "empty-state";
      empty.innerHTML = "<strong>No hashtags yet</strong><span>The scored data holds no hashtags in this range. Type one above.</span>";
      empty.hidden = false;
      $("#volume-chart").setAttribute("data-state", "empty");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
