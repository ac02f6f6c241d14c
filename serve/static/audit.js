/* swarmlens dashboard: the audit panel under the volume chart.
 *
 * Counts on the chart are classify-and-count (each post under the label the model predicts).
 * Where a stored audit covers the hashtag and the chosen range (POST /v1/audits), this panel
 * shows the audited estimate from GET /v1/hashtags/{tag}/estimate: each label's share by
 * prediction-powered inference with its 95% interval, and "audited: n of N posts". Where none
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

  function audited(panel, data, st, simulated) {
    panel.setAttribute("data-audited", "true");
    panel.setAttribute("data-simulated", simulated ? "true" : "false");
    const rows = labels.names().map((l) => {
      const r = data.labels[l];
      return (
        "<tr><td>" + esc(l) + '</td><td class="num">' + fmtPct(r.share) +
        '</td><td class="num audit-estimate">' + fmtPct(r.estimate) +
        '</td><td class="num">' + range(r.low, r.high) + "</td></tr>"
      );
    });
    const f = data.flood_share;
    rows.push(
      '<tr class="audit-flood"><td>flood share</td><td class="num">' +
        (f.count_based === null ? "–" : fmtPct(f.count_based)) +
        '</td><td class="num audit-estimate">' + (f.estimate === null ? "–" : fmtPct(f.estimate)) +
        '</td><td class="num">' + range(f.low, f.high) + "</td></tr>"
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
      '<th class="num">Audited estimate</th><th class="num">95% interval</th></tr></thead><tbody>' +
      rows.join("") + "</tbody></table>" + series;
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
        audited(panel, data, st, (list.audits || []).some((a) => a.simulated));
      } else unaudited(panel, data, st);
    } catch (err) {
      if (err.name === "AbortError" || token !== seq) return;
      panel.setAttribute("data-audited", "unknown");
      panel.innerHTML = '<p class="audit-head">Audit status unavailable: ' + esc(err.message || String(err)) + "</p>";
    }
  }

  SL.audit = { load: load };
})((window.swarmlens = window.swarmlens || {}));
