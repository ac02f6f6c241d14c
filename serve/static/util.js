/* swarmlens dashboard: shared helpers (formatting, UTC times, the JSON API client, the error
 * banner). Plain script, loaded first; everything lands on the `window.swarmlens` namespace so
 * the page needs no bundler and works offline.
 */
(function (SL) {
  "use strict";

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const NUM = new Intl.NumberFormat("en-US");

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /* ------------------------------------------------------------ formatting */

  function esc(value) {
    return String(value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  /** A hashtag as readers see it: '#' then its spelling, in a <bdi dir="auto"> so that the
   * '#' sits at the start in the tag's own reading direction (right of an Arabic tag). */
  function tagHtml(display) {
    return '<bdi dir="auto">#' + esc(display) + "</bdi>";
  }

  /** The same for plain text (title, aria-label): first-strong isolate ... pop isolate. */
  function tagText(display) {
    return "\u2068#" + display + "\u2069";
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

  /* ----------------------------------------------------------- UTC times */

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
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + (withYear ? " " + d.getUTCFullYear() : "") + " " + fmtHour(d);
  }

  /** The time span of one bucket as the tooltip shows it. */
  function bucketLabel(t, interval) {
    const d = parseTime(t);
    if (!d) return String(t);
    if (interval === "day") return fmtDay(d, true) + " (UTC)";
    const e = new Date(d.getTime() + 3600000);
    return fmtDay(d, true) + " · " + fmtHour(d) + "–" + fmtHour(e) + " UTC";
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

  /* ------------------------------------------------------------------ API */

  class ApiError extends Error {}

  function detailMessage(body, text, status, statusText) {
    const detail = body && typeof body === "object" ? body.detail : undefined;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map((d) => {
          if (!d || typeof d !== "object") return String(d);
          const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== "query" && x !== "path" && x !== "body").join(".") : "";
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

  // One request in flight per channel: a newer request on the same channel aborts the older
  // one, so a slow answer can never overwrite a newer view.
  // When the server's reads need an API key (SWARMLENS_READS_NEED_KEY), open the dashboard
  // once as /?key=KEY: the key is kept in this browser's localStorage, not in the URL.
  function requestHeaders() {
    const headers = { Accept: "application/json" };
    try {
      const given = new URLSearchParams(window.location.search).get("key");
      if (given) {
        window.localStorage.setItem("swarmlens.key", given);
        window.history.replaceState(null, "", window.location.pathname);
      }
      const key = window.localStorage.getItem("swarmlens.key");
      if (key) headers["X-API-Key"] = key;
    } catch (_) {
      // storage disabled: no key
    }
    return headers;
  }

  const aborts = {};

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
      resp = await fetch(url, { headers: requestHeaders(), signal: ctrl.signal });
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

  /* --------------------------------------------------------- error banner */

  const errors = [];

  function showError(what, err) {
    const msg = what + ": " + (err && err.message ? err.message : String(err));
    if (!errors.includes(msg)) errors.push(msg);
    $("#error-list").innerHTML = errors.map((m) => "<li>" + esc(m) + "</li>").join("");
    $("#error-banner").hidden = false;
  }

  function clearErrors() {
    errors.length = 0;
    $("#error-list").innerHTML = "";
    $("#error-banner").hidden = true;
  }

  SL.util = {
    MONTHS,
    $,
    $$,
    esc,
    tagHtml,
    tagText,
    fmtNum,
    fmtCompact,
    fmtPct,
    parseTime,
    fmtDay,
    fmtHour,
    fmtShort,
    bucketLabel,
    localToIso,
    isoToLocal,
    api,
    showError,
    clearErrors,
  };
})((window.swarmlens = window.swarmlens || {}));
