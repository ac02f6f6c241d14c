"""The analyst dashboard (serve/static) in a real headless Chromium against a live server.

Needs Debian's chromium (`apt-get install -y chromium`) and the `playwright` Python package
(never `playwright install`: it downloads a browser). Skips with a message when either is
missing. The server comes from the `live_server` fixture (tests/conftest.py), loaded with the
demo corpus. Screenshots go to test-artifacts/ at the project root.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, ROOT

ARTIFACTS = ROOT / "test-artifacts"
LABELS = ("supportive", "opposing", "neutral")
ARABIC = re.compile(r"[\u0600-\u06FF]")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium` "
        "(do not run `playwright install`)",
        allow_module_level=True,
    )
try:
    from playwright import sync_api
except ImportError as exc:  # not installed, or installed without its driver
    pytest.skip(
        f"the playwright package is not usable ({exc}): `.venv/bin/pip install playwright`",
        allow_module_level=True,
    )


# ----------------------------------------------------------------------------- helpers


def api_get(base: str, path: str, params: list[tuple[str, str]] | None = None) -> tuple[int, Any]:
    """GET a JSON endpoint of the live server directly: (status, body)."""
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body)
        except ValueError:
            return err.code, body.decode("utf-8", "replace")


def volume_path(tag: str) -> str:
    return "/v1/hashtags/" + urllib.parse.quote(tag, safe="") + "/volume"


def volume(base: str, tag: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    status, body = api_get(base, volume_path(tag), params)
    assert status == 200, (status, body)
    return body


ALL_LABELS = [("label", label) for label in LABELS]
PAGE_DEFAULTS = [("interval", "hour"), *ALL_LABELS, ("exclude_retweets", "false")]


def drawn(page: Any) -> dict[str, Any]:
    """What the uPlot chart last drew (chart.js): bar segments and axis tick labels."""
    return page.evaluate("() => window.swarmlens.chart.inspect()")


# The colour of the canvas pixel in the middle of each segment (x, y, w, h: CSS px in the plot
# area, which uPlot's .u-over covers), as [r, g, b, a].
SAMPLE_PIXELS = """segs => {
  const canvas = document.querySelector('#volume-chart canvas');
  const over = document.querySelector('#volume-chart .u-over').getBoundingClientRect();
  const box = canvas.getBoundingClientRect();
  const kx = canvas.width / box.width, ky = canvas.height / box.height;
  const ctx = canvas.getContext('2d');
  return segs.map(s => Array.from(ctx.getImageData(
    Math.floor((over.left - box.left + s.x + s.w / 2) * kx),
    Math.floor((over.top - box.top + s.y + s.h / 2) * ky), 1, 1).data));
}"""


def rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def assert_segments_match(page: Any, series: list[dict[str, Any]], colours: dict[str, str]) -> None:
    """One chart segment per (bucket, label) with a nonzero count, none for zeros, and the
    canvas shows each (big enough to have an inside) in its label's colour from /info."""
    segments = drawn(page)["segments"]
    expected = {
        (label, point["t"]): point[label]
        for point in series
        for label in LABELS
        if (point.get(label) or 0) > 0
    }
    assert expected, "the series has no nonzero bucket"
    assert {(s["label"], s["t"]): s["count"] for s in segments} == expected
    assert len(segments) == len(expected)
    for label in LABELS:
        if sum(point.get(label) or 0 for point in series) > 0:
            assert any(s["label"] == label for s in segments), f"no segment for {label}"
    inside = [s for s in segments if s["w"] >= 3 and s["h"] >= 3]
    assert inside, "every segment is too small to sample"
    pixels = page.evaluate(SAMPLE_PIXELS, inside)
    for segment, pixel in zip(inside, pixels, strict=True):
        assert pixel == [*rgb(colours[segment["label"]]), 255], (segment, pixel)


def label_colours(base: str) -> dict[str, str]:
    status, info = api_get(base, "/info")
    assert status == 200, (status, info)
    return {label["name"]: label["colour"] for label in info["labels"]}


def assert_flood_share(shown: str, series: list[dict[str, Any]]) -> None:
    """`shown` is a percentage with one decimal that matches opposing / (supportive + opposing)."""
    assert re.fullmatch(r"\d{1,3}\.\d%", shown), shown
    sup = sum(point.get("supportive", 0) for point in series)
    opp = sum(point.get("opposing", 0) for point in series)
    assert sup + opp > 0
    assert abs(float(shown[:-1]) - 100 * opp / (sup + opp)) <= 0.05 + 1e-9, (shown, sup, opp)


def wait_for_chart(page: Any, tag: str) -> None:
    page.wait_for_function(
        "tag => { const c = document.querySelector('#volume-chart');"
        " return c && c.getAttribute('data-hashtag') === tag"
        " && ['ready', 'empty', 'error'].includes(c.getAttribute('data-state')); }",
        arg=tag,
    )


def is_loopback(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    host = (parsed.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Recorder:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []

    def off_host(self) -> list[str]:
        return [url for url in self.requests if not is_loopback(url)]


@pytest.fixture()
def page(browser: Any) -> Iterator[tuple[Any, Recorder]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    rec = Recorder()
    pg.on("request", lambda request: rec.requests.append(request.url))
    pg.on("pageerror", lambda error: rec.page_errors.append(str(error)))
    pg.on(
        "console",
        lambda msg: rec.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield pg, rec
    context.close()


# ------------------------------------------------------------------------------- tests


def test_dashboard_charts_top_hashtag_then_arabic_then_empty(
    page: tuple[Any, Recorder], live_server: str
) -> None:
    pg, rec = page
    ARTIFACTS.mkdir(exist_ok=True)
    pg.goto(live_server + "/")

    # The top-hashtags table answers, its first hashtag fills the input and gets charted.
    pg.wait_for_selector("#top-hashtags tbody tr[data-hashtag]")
    rows = pg.eval_on_selector_all(
        "#top-hashtags tbody tr[data-hashtag]", "rs => rs.map(r => r.getAttribute('data-hashtag'))"
    )
    top = rows[0]
    wait_for_chart(pg, top)
    assert pg.input_value("#hashtag-input") == top
    assert pg.get_attribute("#volume-chart", "data-state") == "ready"
    ticks = drawn(pg)["ticks"]
    assert len([t for t in ticks["x"] + ticks["y"] if t]) > 3, f"axis ticks are missing: {ticks}"
    assert pg.is_hidden("#error-banner")
    pg.wait_for_function(
        "() => { const t = document.querySelector('#model-version').textContent.trim();"
        " return t && t !== '…'; }"
    )
    _, model = api_get(live_server, "/v1/models/current")
    assert pg.text_content("#model-version").strip() == model["model_version"]
    assert "estimate" in pg.text_content("header").lower()
    # The default model is trained on generated posts: the header says so, with no figure.
    assert model["synthetic"] is True
    assert "synthetic demo data" in pg.text_content("#model-metric")
    assert "macro-F1" not in pg.text_content("header")

    # The labels, their order and colours come from /info, not from the page.
    colours = label_colours(live_server)
    assert list(colours) == list(LABELS)
    checks = pg.eval_on_selector_all('input[name="label"]', "els => els.map(e => e.value)")
    assert checks == list(LABELS)
    for label, colour in colours.items():
        swatch = pg.eval_on_selector(
            f'.stat[data-stat="{label}"] .swatch', "e => getComputedStyle(e).backgroundColor"
        )
        assert swatch == "rgb({}, {}, {})".format(*rgb(colour)), (label, swatch)

    series = volume(live_server, top, PAGE_DEFAULTS)["series"]
    assert_segments_match(pg, series, colours)
    assert_flood_share(pg.text_content("#flood-share").strip(), series)
    for label in LABELS:
        total = sum(point.get(label) or 0 for point in series)
        assert pg.text_content(f"#total-{label}").strip() == f"{total:,}"

    # Hovering a bar shows the bucket time and its counts.
    biggest = max(drawn(pg)["segments"], key=lambda s: s["h"])
    middle = {"x": biggest["x"] + biggest["w"] / 2, "y": biggest["y"] + biggest["h"] / 2}
    pg.hover("#volume-chart .u-over", position=middle)
    pg.wait_for_selector("#chart-tooltip", state="visible")
    tip = pg.text_content("#chart-tooltip")
    assert "UTC" in tip
    assert f"{biggest['label']}{biggest['count']:,}" in tip.replace(" ", ""), tip

    # The other panels answered too.
    pg.wait_for_function(
        "() => ['emerging-hashtags', 'top-domains'].every(id =>"
        " ['ready', 'empty'].includes(document.getElementById(id).getAttribute('data-state')))"
    )
    pg.mouse.move(0, 0)
    pg.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # Clicking another row (an Arabic hashtag) charts it, right to left in its cell.
    arabic = [tag for tag in rows if ARABIC.search(tag) and tag != top]
    assert arabic, f"no Arabic hashtag among the top hashtags: {rows}"
    tag = arabic[0]
    row = pg.locator("#top-hashtags tbody tr[data-hashtag]").nth(rows.index(tag))
    # Shown as people most often spell it (ta marbuta kept), the key staying in the URL; the
    # tag isolated in its own direction, so its '#' is at its start: right of an Arabic tag.
    status, top_body = api_get(live_server, "/v1/hashtags/top", [("limit", "100")])
    display = {h["hashtag"]: h["display"] for h in top_body["hashtags"]}[tag]
    assert status == 200 and display != tag
    cell = row.locator("td.tag bdi[dir=auto]")
    assert cell.text_content() == "#" + display
    assert cell.evaluate("e => getComputedStyle(e).direction") == "rtl"
    hash_right_of_next = (
        "e => { const t = e.firstChild, a = document.createRange(), b = document.createRange();"
        " a.setStart(t, 0); a.setEnd(t, 1); b.setStart(t, 1); b.setEnd(t, 2);"
        " return a.getBoundingClientRect().left >= b.getBoundingClientRect().right - 0.5; }"
    )
    assert cell.evaluate(hash_right_of_next)
    row.click()
    wait_for_chart(pg, tag)
    assert pg.get_attribute("#volume-chart", "data-state") == "ready"
    assert pg.input_value("#hashtag-input") == tag
    assert "#" + display in pg.text_content("#chart-title")
    assert pg.locator("#chart-title bdi[dir=auto]").evaluate(hash_right_of_next)
    assert "selected" in (row.get_attribute("class") or "")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query)
    assert query.get("hashtag") == [tag]
    arabic_series = volume(live_server, tag, PAGE_DEFAULTS)["series"]
    assert_segments_match(pg, arabic_series, colours)
    assert_flood_share(pg.text_content("#flood-share").strip(), arabic_series)
    pg.screenshot(path=str(ARTIFACTS / "dashboard-arabic.png"), full_page=True)

    # A hashtag nobody used: an empty message, not an error.
    nonsense = "zzqx" + uuid.uuid4().hex[:10]
    pg.fill("#hashtag-input", "#" + nonsense)
    pg.press("#hashtag-input", "Enter")
    wait_for_chart(pg, nonsense)
    assert pg.get_attribute("#volume-chart", "data-state") == "empty"
    assert pg.is_visible("#volume-empty")
    assert "no posts" in pg.text_content("#volume-empty").lower()
    assert pg.is_hidden("#error-banner")
    assert drawn(pg)["segments"] == []
    assert pg.locator("#volume-chart canvas").count() == 0

    # Back in history returns to the Arabic hashtag (the view lives in the URL).
    pg.go_back()
    wait_for_chart(pg, tag)
    assert pg.input_value("#hashtag-input") == tag

    assert rec.requests, "no request was recorded"
    assert not rec.off_host(), f"requests left the machine: {rec.off_host()}"
    assert not rec.page_errors, rec.page_errors
    assert not rec.console_errors, rec.console_errors


def test_dashboard_restores_view_from_url(page: tuple[Any, Recorder], live_server: str) -> None:
    pg, rec = page
    colours = label_colours(live_server)
    _, body = api_get(live_server, "/v1/hashtags/top", [("limit", "1")])
    tag = body["hashtags"][0]["hashtag"]
    params = [
        ("hashtag", tag),
        ("interval", "day"),
        ("label", "supportive"),
        ("label", "opposing"),
        ("exclude_retweets", "true"),
    ]
    pg.goto(live_server + "/?" + urllib.parse.urlencode(params))
    wait_for_chart(pg, tag)
    for _ in range(2):  # as loaded, then after a reload
        assert pg.input_value("#hashtag-input") == tag
        assert pg.input_value("#interval-select") == "day"
        assert pg.is_checked("#exclude-retweets")
        assert not pg.is_checked('input[name="label"][value="neutral"]')
        segments = drawn(pg)["segments"]
        assert not [s for s in segments if s["label"] == "neutral"]
        times = [s["t"] for s in segments]
        assert times and all(t.endswith("T00:00:00Z") for t in times)
        series = volume(
            live_server,
            tag,
            [("interval", "day"), params[2], params[3], ("exclude_retweets", "true")],
        )["series"]
        assert_segments_match(pg, series, colours)
        pg.reload()
        wait_for_chart(pg, tag)
    assert not rec.off_host(), f"requests left the machine: {rec.off_host()}"
    assert not rec.page_errors, rec.page_errors


def test_dashboard_shows_api_error_detail(page: tuple[Any, Recorder], live_server: str) -> None:
    pg, rec = page
    _, body = api_get(live_server, "/v1/hashtags/top", [("limit", "1")])
    tag = body["hashtags"][0]["hashtag"]
    bad = [("start", "2015-11-20T00:00:00Z"), ("end", "2015-11-10T00:00:00Z")]
    status, error = api_get(live_server, volume_path(tag), bad)
    assert status >= 400, f"start after end was accepted: {status} {error}"
    detail = error["detail"] if isinstance(error, dict) else error
    messages = [d["msg"] for d in detail] if isinstance(detail, list) else [str(detail)]

    pg.goto(live_server + "/?" + urllib.parse.urlencode([("hashtag", tag), *bad]))
    pg.wait_for_selector("#error-banner", state="visible")
    wait_for_chart(pg, "")
    banner = pg.text_content("#error-banner")
    assert "[object Object]" not in banner
    for message in messages:
        assert message in banner, (message, banner)
    assert pg.input_value("#start-input") == "2015-11-20T00:00"
    assert pg.input_value("#end-input") == "2015-11-10T00:00"
    assert pg.get_attribute("#volume-chart", "data-state") == "error"

    pg.click("#error-dismiss")
    assert pg.is_hidden("#error-banner")
    assert not rec.off_host(), f"requests left the machine: {rec.off_host()}"
    assert not rec.page_errors, rec.page_errors


def test_dashboard_shows_the_audited_estimate_where_an_audit_exists(
    page: tuple[Any, Recorder], live_server: str, demo_dataset: Any
) -> None:
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.analytics.estimate import sample_rows
    from swarmlens.classifier.analytics.simulated_audit import demo_labels
    from swarmlens.classifier.posts.post import parse_time

    pg, rec = page
    tag, start, end = "parisisburning", "2015-11-14T00:00:00Z", "2015-11-17T00:00:00Z"
    view = [("hashtag", tag), ("start", start), ("end", end), ("interval", "day")]
    pg.goto(live_server + "/?" + urllib.parse.urlencode(view))
    wait_for_chart(pg, tag)
    pg.wait_for_selector('#audit-panel[data-audited="false"]')
    panel = pg.text_content("#audit-panel")
    assert "Unaudited" in panel and "classify-and-count" in panel
    assert f"swarmlens annotate push --strategy audit --dataset DIR --hashtag {tag}" in panel

    # A simulated audit of the window (demo labels of a seeded uniform sample).
    population = queries.hashtag_posts(
        datasets.parquet_source([demo_dataset]), tag, parse_time(start), parse_time(end)
    )
    ids, truth = population["post_id"], demo_labels(demo_dataset.parent / "demo.jsonl.gz")
    chosen = [ids[i] for i in sample_rows(len(ids), 60, seed=9)]
    request = urllib.request.Request(
        live_server + "/v1/audits",
        data=json.dumps(
            {
                "audit_id": f"dashboard-{uuid.uuid4().hex[:8]}",
                "hashtag": tag,
                "start": start,
                "end": end,
                "labels": [{"post_id": i, "label": truth[i], "annotator": "sim"} for i in chosen],
                "simulated": True,
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert resp.status == 200
    status, answer = api_get(
        live_server, "/v1/hashtags/" + tag + "/estimate", [("start", start), ("end", end)]
    )
    assert status == 200 and answer["audited"] == 60

    pg.reload()
    wait_for_chart(pg, tag)
    pg.wait_for_selector('#audit-panel[data-audited="true"]')
    panel = pg.text_content("#audit-panel")
    assert f"audited: 60 of {answer['posts']:,} posts" in panel
    assert "simulated audit" in panel  # demo labels are not annotators: said so
    for label in LABELS:
        row = answer["labels"][label]
        assert f"{100 * row['low']:.1f}% – {100 * row['high']:.1f}%" in panel
    assert "constant over the audit window" in panel  # the per-day estimates say what they assume
    assert not rec.off_host(), f"requests left the machine: {rec.off_host()}"
    assert not rec.page_errors, rec.page_errors
    assert not rec.console_errors, rec.console_errors


def test_dashboard_shows_the_truth_of_a_simulated_audit_beside_the_estimate(
    page: tuple[Any, Recorder], live_server: str, demo_dataset: Any
) -> None:
    """The demo's point on the dashboard: classify-and-count, the audited estimate with its
    interval, and the synthetic corpus's truth (the simulated audit file's ``truth``, marked
    synthetic), for exactly the audited population: the simulated audit is posted with its
    ``truth`` as the demo's audit file carries it, and the page reads it back from
    ``GET /v1/audits``."""
    from swarmlens.classifier.analytics import datasets, queries
    from swarmlens.classifier.analytics.estimate import sample_rows
    from swarmlens.classifier.analytics.simulated_audit import demo_labels, true_shares
    from swarmlens.classifier.posts.post import parse_time

    pg, rec = page
    tag, start, end = "parisisburning", "2015-11-10T00:00:00Z", "2015-11-21T00:00:00Z"
    population = queries.hashtag_posts(
        datasets.parquet_source([demo_dataset]), tag, parse_time(start), parse_time(end)
    )
    ids, labels = population["post_id"], demo_labels(demo_dataset.parent / "demo.jsonl.gz")
    truth = true_shares([labels[i] for i in ids])
    chosen = [ids[i] for i in sample_rows(len(ids), 100, seed=0)]
    request = urllib.request.Request(
        live_server + "/v1/audits",
        data=json.dumps(
            {
                "audit_id": f"truth-{uuid.uuid4().hex[:8]}",
                "hashtag": tag,
                "start": start,
                "end": end,
                "labels": [{"post_id": i, "label": labels[i], "annotator": "sim"} for i in chosen],
                "simulated": True,
                "truth": truth,
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert resp.status == 200
    view = [("hashtag", tag), ("start", start), ("end", end), ("interval", "day")]
    pg.goto(live_server + "/?" + urllib.parse.urlencode(view))
    wait_for_chart(pg, tag)
    pg.wait_for_selector('#audit-panel[data-audited="true"]')
    assert pg.get_attribute("#audit-panel", "data-truth") == "true"
    _, answer = api_get(live_server, "/v1/hashtags/" + tag + "/estimate",
                        [("start", start), ("end", end)])
    assert answer["posts"] == truth["posts"]
    head = pg.text_content("#audit-panel thead")
    assert "Classify-and-count" in head and "Audited estimate" in head
    assert "Truth (synthetic)" in head
    flood = pg.inner_text("#audit-panel tr.audit-flood").split("\t")
    raw, estimate, interval, shown_truth = (cell.strip() for cell in flood[1:5])
    assert raw == f"{100 * answer['flood_share']['count_based']:.1f}%"
    assert estimate == f"{100 * answer['flood_share']['estimate']:.1f}%"
    low, high = answer["flood_share"]["low"], answer["flood_share"]["high"]
    assert interval == f"{100 * low:.1f}% – {100 * high:.1f}%"
    assert shown_truth == f"{100 * truth['flood_share']:.1f}%"
    assert "synthetic" in pg.text_content("#audit-panel .audit-truth-note")
    pg.screenshot(path=str(ARTIFACTS / "dashboard-audit-truth.png"), full_page=True)
    assert not rec.off_host(), f"requests left the machine: {rec.off_host()}"
    assert not rec.page_errors, rec.page_errors


def test_dashboard_draws_the_demo_network(page: tuple[Any, Recorder], live_server: str) -> None:
    pg, rec = page
    pg.goto(live_server + "/?hashtag=ParisIsBurning")
    pg.wait_for_selector("#network-card[data-state=ready]")
    status, data = api_get(live_server, "/v1/hashtags/ParisIsBurning/network")
    assert status == 200
    assert pg.get_attribute("#network-canvas", "data-nodes") == str(len(data["drawing"]["nodes"]))
    rows = pg.locator("#network-communities tbody tr[data-community]")
    assert rows.count() == min(15, len(data["communities"]))
    size_cell = pg.locator("#network-communities tbody tr").first.locator("td").nth(1)
    assert size_cell.inner_text() == str(data["communities"][0]["size"])
    groups = pg.locator("#network-groups .coord-group")
    assert groups.count() == len(data["coordination"]["groups"][:10]) and groups.count() >= 1
    assert "demo_relay_" in groups.first.inner_text()
    kinds = pg.locator("#network-coord tbody tr[data-kind]")
    assert kinds.count() == 4
    link = pg.locator("#network-coord tr[data-kind=link] td").nth(1).inner_text()
    assert link == str(data["coordination"]["by"]["link"]["pairs"])
    assert "no text" in pg.locator("#network-coord tr[data-kind=text]").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator("#network-card").screenshot(path=str(ARTIFACTS / "dashboard-network.png"))
    assert not rec.page_errors and not rec.console_errors and not rec.off_host()


# Every element of every card lies inside the card, no scroll container in a card scrolls
# sideways, no card sticks out of its column, and the page does not scroll sideways.
OVERFLOWS = """() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) out.push('the page scrolls sideways: ' + doc.scrollWidth);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  document.querySelectorAll('.card').forEach((card) => {
    const cb = card.getBoundingClientRect();
    const pb = card.parentElement.getBoundingClientRect();
    const which = card.id || card.getAttribute('aria-labelledby') || name(card);
    if (cb.left < pb.left - 0.5 || cb.right > pb.right + 0.5) {
      out.push(which + ' leaves its column');
    }
    [card, ...card.querySelectorAll('*')].forEach((el) => {
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') return;
      // Cells ellipsize on purpose (the row's title has the text whole).
      if (!el.matches('td, th, .domain-name') && style.overflowX !== 'visible' &&
          el.scrollWidth > el.clientWidth + 1) {
        out.push(which + ': ' + name(el) + ' scrolls sideways');
      }
      const r = el.getBoundingClientRect();
      if (!r.width && !r.height) return;
      if (r.left < cb.left - 0.5 || r.right > cb.right + 0.5) {
        out.push(which + ': ' + name(el) + ' overflows');
      }
    });
  });
  return out;
}"""

WIDTHS = (1280, 1400, 1920)
ROW_KEYS = "rs => rs.map(r => r.getAttribute('data-hashtag'))"


def wait_for_panels(pg: Any) -> None:
    pg.wait_for_selector("#network-card[data-state=ready]")
    pg.wait_for_function(
        "() => ['top-hashtags', 'emerging-hashtags', 'top-domains'].every(id =>"
        " ['ready', 'empty'].includes(document.getElementById(id).getAttribute('data-state')))"
    )
    pg.wait_for_selector("#audit-panel[data-audited]")


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_layout_holds_at_common_widths(
    browser: Any, live_server: str, width: int
) -> None:
    """At 1280, 1400 and 1920 px, with the widest window (24 h) and an Arabic tag charted, no
    panel's content overflows its card, and every panel keeps its padding."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for view in ("/?window_hours=24", "/?hashtag=باريس_تشتعل&window_hours=24"):
            pg.goto(live_server + view)
            wait_for_panels(pg)
            assert pg.input_value("#window-select") == "24"
            assert pg.evaluate(OVERFLOWS) == [], (width, view)
            # The window selector is whole and inside its card.
            select = pg.locator("#window-select").bounding_box()
            card = pg.locator("#emerging-title").evaluate(
                "e => { const r = e.closest('.card').getBoundingClientRect();"
                " return {x: r.x, width: r.width}; }"
            )
            assert select and select["x"] + select["width"] <= card["x"] + card["width"] - 8
            # The audit block is inset like every other block of its card.
            inset = pg.locator("#audit-panel").evaluate(
                "e => { const p = e.getBoundingClientRect(),"
                " c = e.closest('.card').getBoundingClientRect(),"
                " s = document.querySelector('.stats').getBoundingClientRect();"
                " return [p.left - c.left, c.right - p.right, s.left - c.left]; }"
            )
            assert inset[0] >= 12 and inset[1] >= 12 and abs(inset[0] - inset[2]) < 1, inset
        ARTIFACTS.mkdir(exist_ok=True)
        pg.mouse.move(0, 0)
        pg.screenshot(path=str(ARTIFACTS / f"dashboard-{width}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, errors


def test_network_subtitle_quotes_an_arabic_tag_as_written_in_its_direction(
    page: tuple[Any, Recorder], live_server: str
) -> None:
    pg, rec = page
    status, top = api_get(live_server, "/v1/hashtags/top", [("limit", "100")])
    assert status == 200
    arabic = [h for h in top["hashtags"] if ARABIC.search(h["hashtag"]) and h["display"]]
    tag = arabic[0]
    pg.goto(live_server + "/?" + urllib.parse.urlencode([("hashtag", tag["hashtag"])]))
    pg.wait_for_selector("#network-card[data-state=ready]")
    network_path = "/v1/hashtags/" + urllib.parse.quote(tag["hashtag"]) + "/network"
    _, data = api_get(live_server, network_path)
    subtitle = pg.locator("#network-subtitle")
    quoted = subtitle.locator("bdi[dir=auto]")
    pg.wait_for_function(
        "t => document.querySelector('#network-subtitle bdi')?.textContent === t",
        arg="#" + tag["display"],
    )
    assert quoted.count() == 1
    assert quoted.evaluate("e => getComputedStyle(e).direction") == "rtl"
    text = subtitle.text_content()
    assert text.startswith("#" + tag["display"] + f": {data['retweets']:,} retweets among"), text
    # In the (left-to-right) sentence, the isolated tag comes first, its '#' on its right,
    # and the colon after it on the right of the whole tag.
    order = quoted.evaluate(
        "e => { const t = e.firstChild, hash = document.createRange(),"
        " rest = document.createRange(), colon = document.createRange();"
        " hash.setStart(t, 0); hash.setEnd(t, 1);"
        " rest.setStart(t, 1); rest.setEnd(t, t.length); const n = e.nextSibling;"
        " colon.setStart(n, 0); colon.setEnd(n, 1);"
        " return [hash.getBoundingClientRect().left, rest.getBoundingClientRect().right,"
        " colon.getBoundingClientRect().left]; }"
    )
    hash_left, tag_right, colon_left = order
    assert hash_left >= tag_right - 0.5, order  # '#' right of the Arabic letters
    assert colon_left >= hash_left, order  # ':' right of the tag, then the sentence
    assert not rec.page_errors and not rec.off_host()


def test_emerging_panel_follows_the_selected_range(
    page: tuple[Any, Recorder], live_server: str
) -> None:
    """The demo's burst (the night of 13 November) is found when the range ends after it."""
    pg, rec = page
    end = "2015-11-14T06:00:00Z"
    query = [("window_hours", "24"), ("end", end), ("limit", "20")]
    status, api = api_get(live_server, "/v1/hashtags/emerging", query)
    assert status == 200 and api["hashtags"], api
    keys = [h["hashtag"] for h in api["hashtags"]]
    assert {"parisisburning", "باريستشتعل"} & set(keys[:3]), keys  # the planted burst
    view = [
        ("hashtag", "parisisburning"),
        ("start", "2015-11-12T00:00:00Z"),
        ("end", end),
        ("window_hours", "24"),
    ]
    pg.goto(live_server + "/?" + urllib.parse.urlencode(view))
    pg.wait_for_selector("#emerging-hashtags[data-state=ready]")
    rows = pg.eval_on_selector_all("#emerging-hashtags tbody tr[data-hashtag]", ROW_KEYS)
    assert rows == keys
    assert "14 Nov 06:00" in pg.text_content("#emerging-window")
    requested = [u for u in rec.requests if "/v1/hashtags/emerging" in u]
    assert requested and "end=" + urllib.parse.quote(end) in requested[-1], requested

    # Changing the range's end asks again (here: after the burst, where nothing is bursting).
    pg.fill("#end-input", "2015-11-21T00:00")
    pg.click("#update-button")
    pg.wait_for_function(
        "() => document.querySelector('#emerging-window').textContent.includes('21 Nov 00:00')"
    )
    pg.wait_for_function(
        "() => ['ready', 'empty'].includes("
        "document.querySelector('#emerging-hashtags').getAttribute('data-state'))"
    )
    _, later = api_get(
        live_server,
        "/v1/hashtags/emerging",
        [("window_hours", "24"), ("end", "2015-11-21T00:00:00Z"), ("limit", "20")],
    )
    rows = pg.eval_on_selector_all("#emerging-hashtags tbody tr[data-hashtag]", ROW_KEYS)
    assert rows == [h["hashtag"] for h in later["hashtags"]]
    assert not rec.page_errors and not rec.off_host()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_with_the_network_off(browser: Any, live_server: str, path: str) -> None:
    """Swagger UI and ReDoc come from the server itself: with every request to a host other
    than loopback aborted, the pages still render the API."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    blocked: list[str] = []

    def only_loopback(route: Any) -> None:
        if is_loopback(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda error: errors.append(str(error)))
    try:
        pg.goto(live_server + path)
        if path == "/docs":
            pg.wait_for_selector(".swagger-ui .info .title")
            assert "swarmlens" in pg.text_content(".swagger-ui .info .title")
            pg.wait_for_selector(".opblock")
            assert "/v1/hashtags/{tag}/volume" in pg.text_content(".swagger-ui")
        else:
            pg.wait_for_selector("redoc h1, [role=main] h1")
            pg.wait_for_function(
                "() => document.body.innerText.includes('/v1/hashtags/{tag}/volume')"
            )
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"docs{path.replace('/', '-')}.png"))
    finally:
        context.close()
    if path == "/redoc":
        # ReDoc's sidebar credit links its logo from Redocly's CDN (no option turns it off):
        # blocked, the page is whole without it.
        blocked = [url for url in blocked if not url.endswith("/redoc/logo-mini.svg")]
    assert not blocked, f"the docs page asked for other hosts: {blocked}"
    assert not errors, errors
