"""In the Label Studio UI, an Arabic post is laid out right to left and a French one left to
right (the project's Style relies on Label Studio's internal class names: an upgrade that
breaks it must fail here). Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmlens.annotation import workflow
from tests.support import CHROMIUM, CHROMIUM_ARGS, ROOT
from tests.support.labelstudio import LabelStudioServer

pytestmark = pytest.mark.integration
ARTIFACTS = ROOT / "test-artifacts"
ARABIC = "الدولة الإسلامية لا تمثل الإسلام، تضامننا مع باريس الليلة"
FRENCH = "Solidarité avec Paris ce soir, ces lâches ne représentent personne"

# Where the post's first line sits inside the post block: Arabic must hug the right edge.
MEASURE = """() => {
  const line = document.querySelector('.post .lsf-richtext__line')
             || document.querySelector('.post [class*="richtext"]');
  if (!line) return null;
  const box = document.querySelector('.post').getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(line);
  const text = range.getBoundingClientRect();
  return {left: text.left - box.left, right: box.right - text.right, width: box.width,
          bidi: getComputedStyle(line).unicodeBidi};
}"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_arabic_right_to_left_french_left_to_right(
    labelstudio: LabelStudioServer,
    browser,
    tmp_path: Path,
) -> None:
    ls = labelstudio.client()
    pid = workflow.setup(ls, "direction check")["project_id"]
    created = ls.projects.import_tasks(
        id=pid,
        return_task_ids=True,
        request=[
            {"data": {"text": ARABIC, "post_id": "rtl-ar", "lang": "ar"}},
            {"data": {"text": FRENCH, "post_id": "rtl-fr", "lang": "fr"}},
        ],
    )
    arabic_id, french_id = created.task_ids
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{labelstudio.url}/user/login/")
    page.fill("input[name=email]", labelstudio.admin_email)
    page.fill("input[name=password]", labelstudio.admin_password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    measured = {}
    for name, task_id in (("arabic", arabic_id), ("french", french_id)):
        page.goto(f"{labelstudio.url}/projects/{pid}/data?task={task_id}")
        page.wait_for_selector(".post .lsf-richtext__line, .post [class*=richtext]", timeout=60_000)
        page.wait_for_timeout(500)
        measured[name] = page.evaluate(MEASURE)
        page.screenshot(path=str(ARTIFACTS / f"labelstudio-{name}.png"))
    arabic, french = measured["arabic"], measured["french"]
    assert arabic is not None and french is not None, "post text not found in the page"
    assert arabic["bidi"] == french["bidi"] == "plaintext"
    # Right to left: the Arabic line ends at the right edge and leaves room on the left.
    assert arabic["right"] < 20 < arabic["left"], arabic
    assert french["left"] < 20 < french["right"], french
    assert all(h.startswith(("127.0.0.1", "localhost")) for h in hosts), hosts
