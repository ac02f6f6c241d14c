/* swarmlens dashboard: the volume chart, stacked bars per bucket drawn by uPlot (vendored as
 * uplot.min.js; MIT, see LICENSE.uplot.txt).
 *
 * uPlot has no stacking of its own, so each label becomes one bar series whose segment runs
 * from the labels below it to its own top (the bars path builder's `disp.y0` / `disp.y1`).
 * The x scale is the bucket index, not time: every bucket the API returns (zero ones too)
 * gets one equal column, and the tick labels are chosen here in UTC, as before.
 *
 * API: swarmlens.chart.render(el, spec), .clear(el), .hideTip(), .inspect().
 */
(function (SL) {
  "use strict";

  const { $, esc, fmtNum, fmtPct, fmtCompact, fmtHour, parseTime, bucketLabel, MONTHS } = SL.util;

  const HEIGHT = 320;
  const MIN_TICK_GAP = 46; // px between two x labels
  const TICK_TARGET = 70; // px wanted between x ticks before thinning

  let plot = null; // the live uPlot instance
  let model = null; // what the tooltip and inspect() need about the drawn chart

  function count(point, label) {
    return Number(point[label]) || 0;
  }

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  /* ------------------------------------------------------------- scales */

  function niceStep(max, n) {
    const raw = max / Math.max(1, n);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return Math.max(1, nice * mag);
  }

  function yTicks(maxSum, share) {
    if (share) return [0, 0.25, 0.5, 0.75, 1];
    const step = niceStep(maxSum, 5);
    const top = Math.ceil(maxSum / step) * step;
    const ticks = [];
    for (let v = 0; v <= top + 1e-9; v += step) ticks.push(v);
    return ticks;
  }

  /** Time ticks for buckets `step` px wide: [{i, label}] on round UTC hours or days. */
  function timeTicks(series, interval, step) {
    const hours = interval === "day" ? [1, 2, 7, 14, 28, 56] : [1, 2, 3, 6, 12, 24, 48, 168, 336];
    const every = hours.find((c) => c * step >= TICK_TARGET) || hours[hours.length - 1];
    const ticks = [];
    let lastYear = null;
    series.forEach((p, i) => {
      const d = parseTime(p.t);
      if (!d) return;
      const dayIndex = Math.floor(d.getTime() / 86400000);
      let hit;
      if (interval === "hour" && every < 24) hit = d.getUTCHours() % every === 0;
      else {
        const days = interval === "hour" ? every / 24 : every;
        // Weekly ticks fall on Mondays (1 Jan 1970 was a Thursday, hence the +3).
        const weekly = days === 7 || days === 14;
        hit = d.getUTCHours() === 0 && (weekly ? (dayIndex + 3) % days === 0 : dayIndex % days === 0);
      }
      if (!hit) return;
      let label;
      if (interval === "hour" && d.getUTCHours() !== 0) label = fmtHour(d);
      else {
        label = d.getUTCDate() + " " + MONTHS[d.getUTCMonth()];
        if (lastYear !== null && d.getUTCFullYear() !== lastYear) label += " " + d.getUTCFullYear();
        lastYear = d.getUTCFullYear();
      }
      // Midnight among hourly ticks starts a new day: drawn bold, with a longer tick.
      ticks.push({ i: i, label: label, major: interval === "hour" && d.getUTCHours() === 0 });
    });
    return ticks;
  }

  /** Stack the labels bottom-up: per label, the bottom and top of its segment in each bucket.
   * A zero count is null, which uPlot skips, so no empty segment is ever drawn. */
  function stack(series, names, share) {
    const sums = series.map((p) => names.reduce((a, l) => a + count(p, l), 0));
    const base = series.map(() => 0);
    const lows = [];
    const tops = [];
    names.forEach((l) => {
      const lo = [];
      const hi = [];
      series.forEach((p, i) => {
        const v = count(p, l);
        const k = share ? sums[i] : 1; // sums[i] > 0 whenever v > 0
        if (v > 0) {
          lo.push(base[i] / k);
          base[i] += v;
          hi.push(base[i] / k);
        } else {
          lo.push(null);
          hi.push(null);
        }
      });
      lows.push(lo);
      tops.push(hi);
    });
    return { sums: sums, lows: lows, tops: tops };
  }

  /** Bar width as a share of a column: a thin gap between narrow bars, at most 6 px between
   * wide ones, none when bars are a pixel or two wide. */
  function barFactor(step) {
    const gap = step >= 8 ? Math.min(step * 0.2, 6) : step >= 3 ? 1 : 0;
    return 1 - gap / step;
  }

  /** Draw the major x labels (see timeTicks) bold and dark, over uPlot's axis which leaves
   * them blank: uPlot draws every label of an axis in one font. */
  function drawMajors(u, ticks, font, ink) {
    const majors = ticks.filter((t) => t.major);
    if (!majors.length) return;
    const pr = uPlot.pxRatio;
    const ctx = u.ctx;
    const base = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.font = "600 " + Math.round(11 * pr) + "px " + font;
    ctx.fillStyle = ink;
    ctx.strokeStyle = "#aab4be";
    ctx.lineWidth = pr;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    majors.forEach((t) => {
      const x = Math.round(u.valToPos(t.pos, "x", true)) + 0.5 * pr;
      ctx.beginPath();
      ctx.moveTo(x, base);
      ctx.lineTo(x, base + 7 * pr);
      ctx.stroke();
      ctx.fillText(t.label, x, base + 9 * pr);
    });
    ctx.restore();
  }

  /* ------------------------------------------------------------- render */

  /**
   * Draw `spec` into `el`, replacing what was there.
   * spec: {series, labels: [{name, colour}] bottom-up, interval, share, hashtag,
   *        flood: {num, den: [a, b]} | null  (flood share = num / (a + b), per bucket in the tip)}
   */
  function render(el, spec) {
    clear(el);
    const series = spec.series;
    const names = spec.labels.map((l) => l.name);
    const n = series.length;
    const st = stack(series, names, spec.share);
    const ys = yTicks(Math.max(1, ...st.sums), spec.share);
    const yMax = ys[ys.length - 1];
    const font = cssVar("--font", "sans-serif");
    const ink = cssVar("--ink-3", "#7b8794");
    const first = parseTime(series[0].t);
    const width = Math.max(320, Math.floor(el.clientWidth || 900));
    const step = (width - 58 - 14) / Math.max(1, n); // the plot is the width less the axis and padding

    model = { el: el, spec: spec, names: names, sums: st.sums, segments: new Map(), ticks: { x: [], y: [] } };
    const m = model;
    let xTicks = [];

    const bars = uPlot.paths.bars({
      size: [barFactor(step), 72, 1], // at most 72 px wide: a few buckets are no slabs
      disp: {
        y0: { unit: 1, values: (u, sidx) => st.lows[sidx - 1] },
        y1: { unit: 1, values: (u, sidx) => u.data[sidx] },
      },
      // Called for every bar uPlot actually draws: kept so tests (and debugging) can see
      // what is on the canvas, in CSS px relative to the plot area.
      each: (u, sidx, i, lft, top, wid, hgt) => {
        const pr = uPlot.pxRatio;
        const label = names[sidx - 1];
        m.segments.set(sidx + ":" + i, {
          label: label,
          t: series[i].t,
          count: count(series[i], label),
          x: (lft - u.bbox.left) / pr,
          y: (top - u.bbox.top) / pr,
          w: wid / pr,
          h: hgt / pr,
        });
      },
    });

    const axisText = { font: "11px " + font, labelFont: "11px " + font, stroke: ink, labelGap: 0 };
    const opts = {
      width: width,
      height: HEIGHT,
      padding: [14, 14, 0, 0],
      legend: { show: false }, // the page has its own legend and tooltip
      select: { show: false },
      cursor: { x: false, y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
      scales: {
        x: { time: false, range: () => [-0.5, n - 0.5] },
        y: { range: () => [0, yMax] },
      },
      axes: [
        Object.assign({}, axisText, {
          scale: "x",
          side: 2,
          size: 28,
          gap: 5,
          labelSize: 18,
          label: "time (UTC" + (first ? ", " + MONTHS[first.getUTCMonth()] + " " + first.getUTCFullYear() : "") + ")",
          grid: { show: false },
          ticks: { show: true, stroke: "#aab4be", width: 1, size: 4 },
          border: { show: true, stroke: "#8d99a5", width: 1 },
          splits: (u) => {
            const step = u.bbox.width / uPlot.pxRatio / Math.max(1, n);
            // Wide columns: label the middle of the bar; narrow ones: the bucket's start edge.
            const shift = step >= 30 ? 0 : -0.5;
            let last = -Infinity;
            xTicks = timeTicks(series, spec.interval, step).filter((t) => {
              const px = (t.i + 0.5 + shift) * step;
              if (px - last < MIN_TICK_GAP) return false;
              last = px;
              t.pos = t.i + shift;
              return true;
            });
            m.ticks.x = xTicks.map((t) => t.label);
            return xTicks.map((t) => t.pos);
          },
          values: (u, splits) => splits.map((_, k) => (xTicks[k] && !xTicks[k].major ? xTicks[k].label : "")),
        }),
        Object.assign({}, axisText, {
          scale: "y",
          side: 3,
          size: 42,
          gap: 8,
          labelSize: 16,
          label: spec.share ? "share of posts" : "posts per " + spec.interval,
          ticks: { show: false },
          grid: { show: true, stroke: cssVar("--line-2", "#eef1f4"), width: 1 },
          splits: () => ys,
          values: (u, splits) => (m.ticks.y = splits.map((v) => (spec.share ? Math.round(v * 100) + "%" : fmtCompact(v)))),
        }),
      ],
      series: [{}].concat(
        spec.labels.map((l) => ({ label: l.name, fill: l.colour, stroke: l.colour, width: 0, paths: bars, points: { show: false } }))
      ),
      hooks: { setCursor: [onCursor], drawAxes: [(u) => drawMajors(u, xTicks, font, cssVar("--ink", "#1c2833"))] },
    };

    const data = [series.map((_, i) => i)].concat(st.tops);
    plot = new uPlot(opts, data, el);
    const root = plot.root;
    root.setAttribute("role", "img");
    root.setAttribute("aria-label", "Stacked " + (spec.share ? "share" : "volume") + " by label for " + SL.util.tagText(spec.hashtag));
    const band = document.createElement("div");
    band.className = "hover-band";
    band.hidden = true;
    plot.under.appendChild(band); // under the canvas: the bars stay on top of it
    plot.over.addEventListener("mouseleave", hideTip);
    observe(el);
  }

  function clear(el) {
    hideTip();
    if (plot) plot.destroy();
    plot = null;
    model = null;
    el.innerHTML = "";
  }

  /** Follow the container's width (the card is fluid); the height is fixed. */
  function resize() {
    if (!plot || !model) return;
    const w = Math.max(320, Math.floor(model.el.clientWidth || 900));
    if (Math.abs(w - plot.width) < 2) return;
    render(model.el, model.spec); // anew, not setSize: the bar gaps depend on the width
  }

  let observed = null; // the container the ResizeObserver watches

  function observe(el) {
    if (observed === el || typeof ResizeObserver === "undefined") return;
    observed = el;
    new ResizeObserver(resize).observe(el);
  }

  /* ------------------------------------------------------------ tooltip */

  function onCursor(u) {
    const idx = u.cursor.idx;
    if (!model || idx == null || u.cursor.left < 0) return hideTip();
    const p = model.spec.series[idx];
    if (!p) return hideTip();
    const band = $(".hover-band", u.under);
    const x0 = u.valToPos(idx - 0.5, "x");
    band.style.left = x0 + "px";
    band.style.width = Math.max(1, u.valToPos(idx + 0.5, "x") - x0) + "px";
    band.hidden = false;

    const total = model.sums[idx];
    const rows = model.spec.labels
      .slice()
      .reverse() // top of the stack first, as drawn
      .map((l) => {
        const v = count(p, l.name);
        return (
          '<tr><td><span class="swatch" style="--c:' + esc(l.colour) + '"></span>' + esc(l.name) + '</td><td class="num">' + fmtNum(v) +
          '</td><td class="num dim">' + (total ? fmtPct(v / total, 0) : "") + "</td></tr>"
        );
      })
      .join("");
    let flood = "";
    const f = model.spec.flood;
    if (f) {
      const num = count(p, f.num);
      const den = f.den.reduce((a, l) => a + count(p, l), 0);
      flood = '<div class="tip-foot">flood share ' + (den ? fmtPct(num / den) : "–") + "</div>";
    }
    const tip = $("#chart-tooltip");
    tip.innerHTML =
      '<div class="tip-time">' + esc(bucketLabel(p.t, model.spec.interval)) + "</div><table>" + rows +
      '<tr class="tip-total"><td>total</td><td class="num">' + fmtNum(total) + "</td><td></td></tr></table>" + flood;
    tip.hidden = false;

    // Beside the pointer, flipped to its left near the right edge, kept inside the card.
    const wrap = tip.parentElement.getBoundingClientRect();
    const over = u.over.getBoundingClientRect();
    const cx = over.left + u.cursor.left - wrap.left;
    const cy = over.top + u.cursor.top - wrap.top;
    let x = cx + 16;
    if (x + tip.offsetWidth > wrap.width - 4) x = cx - tip.offsetWidth - 16;
    const y = Math.max(4, Math.min(cy - tip.offsetHeight / 2, wrap.height - tip.offsetHeight - 4));
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = y + "px";
  }

  function hideTip() {
    const tip = $("#chart-tooltip");
    if (tip) tip.hidden = true;
    const band = plot && $(".hover-band", plot.under);
    if (band) band.hidden = true;
  }

  /** What the last chart drew: every bar segment ({label, t, count, x, y, w, h}, CSS px in the
   * plot area) and the axis tick labels. For the browser tests and for debugging. */
  function inspect() {
    if (!model) return { segments: [], ticks: { x: [], y: [] } };
    return { segments: Array.from(model.segments.values()), ticks: { x: model.ticks.x.slice(), y: model.ticks.y.slice() } };
  }

  SL.chart = { render: render, clear: clear, hideTip: hideTip, inspect: inspect };
})((window.swarmlens = window.swarmlens || {}));
