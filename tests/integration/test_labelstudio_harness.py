"""The Label Studio test harness against a real server: health, tokens, a second annotator,
and outages that calls fail on and recover from. One server per test session."""

from __future__ import annotations

import json
import time
import urllib.error

import httpx
import pytest
from label_studio_sdk.core.api_error import ApiError

from tests.support.labelstudio import LabelStudioServer

pytestmark = pytest.mark.integration

STANCE_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="stance" toName="text" choice="single">
    <Choice value="supportive"/><Choice value="opposing"/><Choice value="neutral"/>
  </Choices>
</View>"""


def choice(label: str) -> list[dict]:
    return [
        {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": [label]}}
    ]


@pytest.fixture()
def project(labelstudio: LabelStudioServer):
    ls = labelstudio.client()
    created = ls.projects.create(title="harness project", label_config=STANCE_CONFIG)
    ls.projects.import_tasks(
        id=created.id,
        request=[{"data": {"text": f"post {i}", "post_id": f"h{i}"}} for i in range(3)],
    )
    yield created
    ls.projects.delete(id=created.id)


def test_health_is_up(labelstudio: LabelStudioServer) -> None:
    assert labelstudio.health() == {"status": "UP"}
    assert labelstudio.url.startswith("http://127.0.0.1:")


def test_admin_token_works_through_the_sdk(labelstudio: LabelStudioServer, project) -> None:
    ls = labelstudio.client()
    assert ls.users.whoami().email == labelstudio.admin_email
    assert project.id in [p.id for p in ls.projects.list()]


def test_bad_token_is_refused(labelstudio: LabelStudioServer) -> None:
    with pytest.raises(ApiError) as err:
        labelstudio.client("not-a-real-token").projects.list()
    assert err.value.status_code == 401


def test_second_user_annotates_under_own_identity(labelstudio: LabelStudioServer, project) -> None:
    user_id, token = labelstudio.create_user("annotator1@swarmlens.test", "ann-pass-12345")
    admin = labelstudio.client()
    annotator = labelstudio.client(token)
    assert annotator.users.whoami().id == user_id != admin.users.whoami().id

    task = next(iter(annotator.tasks.list(project=project.id)))
    created = annotator.annotations.create(id=task.id, result=choice("opposing"))
    assert created.completed_by == user_id

    exported = json.loads(
        b"".join(admin.projects.exports.download_sync(id=project.id, export_type="JSON"))
    )
    annotations = [a for t in exported for a in t["annotations"]]
    assert [(a["completed_by"], a["result"]) for a in annotations] == [
        (user_id, choice("opposing"))
    ]


def test_create_user_refuses_a_taken_email(labelstudio: LabelStudioServer) -> None:
    labelstudio.create_user("annotator2@swarmlens.test", "ann-pass-12345")
    with pytest.raises(ValueError, match="refused the signup"):
        labelstudio.create_user("annotator2@swarmlens.test", "ann-pass-12345")


def test_personal_access_token_works_through_the_sdk(labelstudio: LabelStudioServer) -> None:
    user_id, _ = labelstudio.create_user("annotator3@swarmlens.test", "ann-pass-12345")
    pat = labelstudio.personal_access_token("annotator3@swarmlens.test", "ann-pass-12345")
    assert labelstudio.client(pat).users.whoami().id == user_id


def test_outage_down_fails_calls_then_recovers(labelstudio: LabelStudioServer, project) -> None:
    quick = labelstudio.client(timeout=3, max_retries=0)
    with labelstudio.simulate_outage("down"):
        assert labelstudio.health(timeout=1) == {}
        with pytest.raises(httpx.ConnectError):
            quick.projects.list()
    assert labelstudio.health() == {"status": "UP"}
    # Same port, same data: the project made before the outage is still there.
    assert project.id in [p.id for p in quick.projects.list()]


def test_outage_freeze_times_out_then_serves(labelstudio: LabelStudioServer) -> None:
    quick = labelstudio.client(timeout=1, max_retries=0)
    with labelstudio.simulate_outage("freeze"):
        with pytest.raises(httpx.TimeoutException):
            quick.projects.list()
        with pytest.raises((urllib.error.URLError, TimeoutError)):
            labelstudio.api("GET", "/api/projects/", timeout=1)
    assert labelstudio.health() == {"status": "UP"}
    quick.projects.list()


def test_a_retrying_caller_rides_out_a_background_outage(
    labelstudio: LabelStudioServer,
) -> None:
    quick = labelstudio.client(timeout=1, max_retries=0)
    outage = labelstudio.outage_in_background(3, mode="freeze")
    failures = 0
    deadline = time.monotonic() + 60
    while True:
        try:
            quick.projects.list()
            break
        except httpx.HTTPError:
            failures += 1
            assert time.monotonic() < deadline, "server did not recover"
            time.sleep(0.5)
    outage.join(30)
    assert failures >= 1
    assert labelstudio.health() == {"status": "UP"}
