/* swarmlens dashboard: the audit panel under the volume chart.
 *
 * Counts on the chart are classify-and-count (each post under the label the model predicts).
 * Where a stored audit covers the hashtag and the chosen range (POST /v1/audits), this panel
 * shows the audited estimate from GET /v1/hashtags/{tag}/estimate: each label's share by
 * prediction-powered inference with its 95% interval, and "audited: n of N posts" (and, for
 * the demo's simulated audit, the synthetic corpus's true shares, marked so). Where none
 * does, it says the figures are unaudited and shows the command that creates an audit.
 */
(function (SL) {
  "use strict";

  const { $, esc, fmtNum, fmtPct, localToIso, api, bucketLabel } = SL.util;
  const labels = SL.labels;
  let seq = 0;

  function range(low, high) {
    return low === null || high === null ? "–" : fmtPct(low) + " – " + fmtPct(high);
  }

  function unaudited(panel, data, st) {
    const cmd =
      "swarmlens annotate push --strategy audit --dataset DIR --hashtag " + (data.hashtag || st.hashtag) +
      (st.start ? " --start " + localToIso(st.start) : "") +
      (st.end ? " --end " + localToIso(st.end) : "") +
      " --n 100 --project NAME";
    panel.setAttribute("data-audited", "false");
    panel.innerHTML =
      '<p class="audit-head"><strong>Unaudited:</strong> the figures above are classify-and-count ' +
      "(each post counted under the label the model predicts), without error bars. " +
      "An audit of a uniform sample of this hashtag's posts turns them into estimates with 95% intervals:</p>" +
      '<pre class="audit-cmd"><code>' + esc(cmd) + "</code></pre>";
  }

  // The true shares of a simulated audit's population (the demo's synthetic corpus knows
  // every post's stance; the audit file carries them as "truth", marked simulated). Shown
  // only for exactly that population: same number of posts as this estimate's window.
  function truthOf(audits, data) {
    for (const a of audits || []) {
      const t = a.truth;
      if (a.simulated && t && t.simulated && t.shares && t.posts === data.posts) return t;
    }
    return null;
  }

  function truthCell(value) {
    return '<td class="num audit-truth">' + (value === null || value === undefined ? "–" : fmtPct(value)) + "</td>";
  }

  function audited(panel, data, st, simulated, truth) {
    panel.setAttribute("data-audited", "true");
    panel.setAttribute("data-simulated", simulated ? "true" : "false");
    panel.setAttribute("data-truth", truth ? "true" : "false");
    const rows = labels.names().map((l) => {
      const r = data.labels[l];
      return (
        "<tr><td>" + esc(l) + '</td><td class="num">' + fmtPct(r.share) +
        '</td><td class="num audit-estimate">' + fmtPct(r.estimate) +
        '</td><td class="num">' + range(r.low, r.high) + "</td>" +
        (truth ? truthCell(truth.shares[l]) : "") + "</tr>"
      );
    });
    const f = data.flood_share;
    rows.push(
      '<tr class="audit-flood"><td>flood share</td><td class="num">' +
        (f.count_based === null ? "–" : fmtPct(f.count_based)) +
        '</td><td class="num audit-estimate">' + (f.estimate === null ? "–" : fmtPct(f.estimate)) +
        '</td><td class="num">' + range(f.low, f.high) + "</td>" +
        (truth ? truthCell(truth.flood_share) : "") + "</tr>"
    );
    let series = "";
    if (Array.isArray(data.series) && data.series.length) {
      const head = labels.names().map((l) => '<th class="num">' + esc(l) + "</th>").join("");
      const body = data.series
        .map(
          (p) =>
            "<tr><td>" + esc(bucketLabel(p.t, st.interval)) + '</td><td class="num">' + fmtNum(p.posts) + "</td>" +
            labels.names().map((l) => '<td class="num">' + fmtPct(p[l]) + "</td>").join("") + "</tr>"
        )
        .join("");
      series =
        '<details class="audit-series"><summary>Audited shares per ' + esc(st.interval) + "</summary>" +
        '<p class="subtle">These per-bucket estimates assume the model\'s error rates are constant over the ' +
        "audit window (the whole audit's correction is applied to every bucket); they carry no interval.</p>" +
        '<div class="table-scroll short"><table class="data-table"><thead><tr><th>Bucket</th><th class="num">Posts</th>' +
        head + "</tr></thead><tbody>" + body + "</tbody></table></div></details>";
    }
    panel.innerHTML =
      '<p class="audit-head"><strong>Audited estimate</strong> (prediction-powered inference, 95% intervals) · ' +
      (simulated ? '<span class="audit-simulated">simulated audit: the demo corpus\'s own labels, not annotators</span> · ' : "") +
      '<span class="audit-count">audited: ' + fmtNum(data.audited) + " of " + fmtNum(data.posts) + " posts</span></p>" +
      '<table class="data-table audit-table"><thead><tr><th>Label</th><th class="num">Classify-and-count</th>' +
      '<th class="num">Audited estimate</th><th class="num">95% interval</th>' +
      (truth ? '<th class="num audit-truth">Truth (synthetic)</th>' : "") + "</tr></thead><tbody>" +
      rows.join("") + "</tbody></table>" +
      (truth
        ? '<p class="subtle audit-truth-note">Truth: the true shares of these posts, known only because the demo corpus ' +
          "is synthetic (simulated); for real posts only the audited estimate and its interval exist.</p>"
        : "") +
      series;
  }

  async function load(st) {
    const token = ++seq;
    const panel = $("#audit-panel");
    if (!panel || !st.hashtag) return;
    try {
      const data = await api("estimate", "/v1/hashtags/" + encodeURIComponent(st.hashtag) + "/estimate", {
        start: localToIso(st.start),
        end: localToIso(st.end),
        interval: st.interval,
      });
      if (token !== seq) return;
      if (data.audited > 0) {
        // Which audits answered, so that a simulated one (the demo's) is said to be one.
        const list = await api("audits", "/v1/audits", {
          hashtag: st.hashtag,
          start: localToIso(st.start),
          end: localToIso(st.end),
        });
        if (token !== seq) return;
        audited(panel, data, st, (list.audits || []).some((a) => a.simulated), truthOf(list.audits, data));
      } else unaudited(panel, data, st);
    } catch (err) {
      if (err.name === "AbortError" || token !== seq) return;
      panel.setAttribute("data-audited", "unknown");
      panel.innerHTML = '<p class="audit-head">Audit status unavailable: ' + esc(err.message || String(err)) + "</p>";
    }
  }

  SL.audit = { load: load };
})((window.swarmlens = window.swarmlens || {}));
