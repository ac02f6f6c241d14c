/* swarmlens dashboard: the figures above the chart (totals per label, flood share, peak).
 *
 * Labels and the flood-share pair come from SL.labels (that is, from GET /info).
 */
(function (SL) {
  "use strict";

  const { $, fmtNum, fmtPct, fmtDay, fmtShort, parseTime } = SL.util;
  const labels = SL.labels;

  function reset(shown, note) {
    $("#flood-share").textContent = "–";
    $(".stat-flood .stat-note").textContent = note || labels.floodDefinition() || "\u00a0";
    labels.names().forEach((l) => {
      const off = !!shown && !shown.includes(l);
      $("#total-" + l).textContent = "–";
      $("#pct-" + l).textContent = off ? "not selected" : "\u00a0";
      $('.stat[data-stat="' + l + '"]').classList.toggle("off", off);
    });
    $("#total-all").textContent = "–";
    $("#peak-note").textContent = "\u00a0";
  }

  /** Totals per label, the grand total and the peak bucket over `series`. */
  function summarise(series, shown) {
    const totals = {};
    shown.forEach((l) => (totals[l] = 0));
    let peak = null;
    series.forEach((p) => {
      let sum = 0;
      shown.forEach((l) => {
        const v = Number(p[l]) || 0;
        totals[l] += v;
        sum += v;
      });
      if (!peak || sum > peak.sum) peak = { sum: sum, t: p.t };
    });
    return { totals: totals, grand: shown.reduce((a, l) => a + totals[l], 0), peak: peak };
  }

  function render(sum, shown, st) {
    reset(shown);
    shown.forEach((l) => {
      $("#total-" + l).textContent = fmtNum(sum.totals[l]);
      $("#pct-" + l).textContent = sum.grand ? fmtPct(sum.totals[l] / sum.grand) + " of posts" : "\u00a0";
    });
    $("#total-all").textContent = fmtNum(sum.grand);
    const flood = $("#flood-share");
    const floodNote = $(".stat-flood .stat-note");
    const f = labels.flood();
    if (!f || !f.den.every((l) => shown.includes(l))) {
      flood.textContent = "n/a";
      floodNote.textContent = f ? "select " + f.den.join(" and ") : "needs two labels";
    } else {
      const num = sum.totals[f.num];
      const den = f.den.reduce((a, l) => a + sum.totals[l], 0);
      if (den === 0) {
        flood.textContent = "–";
        floodNote.textContent = "no stance-taking posts";
      } else {
        flood.textContent = fmtPct(num / den);
        floodNote.textContent = fmtNum(num) + " of " + fmtNum(den) + " stance-taking posts";
      }
    }
    const peak = sum.peak;
    if (peak && peak.sum > 0) {
      const d = parseTime(peak.t);
      $("#peak-note").textContent =
        "peak " + fmtNum(peak.sum) + " at " + (d ? (st.interval === "day" ? fmtDay(d) : fmtShort(d)) : peak.t);
    }
  }

  SL.stats = { reset: reset, summarise: summarise, render: render };
})((window.swarmlens = window.swarmlens || {}));
