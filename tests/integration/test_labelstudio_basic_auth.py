"""With API keys set, a real Label Studio reaches the ML backend with what it
sends (basic auth, the key as password), and nothing else reads without a key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from swarmlens.annotation import workflow
from tests.support.labelstudio import LabelStudioServer
from tests.support.processes import LiveServer

pytestmark = pytest.mark.integration


def test_label_studio_predicts_through_basic_auth(
    shared_env: dict[str, str], labelstudio: LabelStudioServer, tmp_path: Path
) -> None:
    server = LiveServer({**shared_env, "SWARMLENS_API_KEYS": "k-ls"}, tmp_path / "api")
    try:
        body = {"tasks": [{"id": 1, "data": {"text": "x"}}]}
        assert httpx.post(f"{server.url}/labelstudio/predict", json=body).status_code == 401
        assert httpx.get(f"{server.url}/labelstudio/status").status_code == 401
        ls = labelstudio.client()
        pid = workflow.setup(ls, "keyed ml backend project")["project_id"]
        ls.ml.create(
            url=f"{server.url}/labelstudio", project=pid, title="swarmlens (keyed)",
            auth_method="BASIC_AUTH", basic_auth_user="labelstudio", basic_auth_pass="k-ls",
        )  # fmt: skip
        created = ls.projects.import_tasks(
            id=pid,
            return_task_ids=True,
            request=[{"data": {"text": "Not in my name #ParisIsBurning", "post_id": "k-1"}}],
        )
        ls.actions.create(
            id="retrieve_tasks_predictions",
            project=pid,
            selected_items={"all": False, "included": created.task_ids},
        )
        predicted = list(ls.predictions.list(task=created.task_ids[0]))
        served = httpx.get(
            f"{server.url}/v1/models/current", headers={"X-API-Key": "k-ls"}
        ).json()["model_version"]
        assert predicted and predicted[0].model_version == served
    finally:
        server.stop()
