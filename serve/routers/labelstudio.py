"""Label Studio's ML-backend protocol under /labelstudio/: health, setup, predict, webhook.

Connecting a project to ``http://HOST:PORT/labelstudio`` (``ls.ml.create``) makes Label
Studio pre-label new tasks with the served model. The webhook counts new annotations, each
id once (an update is not a new label), and once ``SWARMLENS_RETRAIN_MIN_LABELS`` have
arrived (or on START_TRAINING) retrains in a background thread (``services.training``).
The request that triggers it never waits for it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from swarmlens.annotation.audit import is_audit
from swarmlens.serve.deps import (
    MetricsDep,
    ModelDep,
    ReadKey,
    SettingsDep,
    TrainerDep,
    WriteKey,
)
from swarmlens.serve.schemas import PredictRequest, PredictResponse, WebhookAnswer, WebhookEvent
from swarmlens.serve.services import classify as service

router = APIRouter(prefix="/labelstudio", tags=["labelstudio"])
_COUNTED = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")


@router.get("/health")
def health(serving: ModelDep) -> dict[str, Any]:
    return {"status": "UP", "model_class": "swarmlens", "model_version": serving.version}


@router.get("/status", dependencies=[ReadKey])
def training_status(trainer: TrainerDep, settings: SettingsDep, serving: ModelDep) -> dict:
    """What the webhook has seen and the last background retrain's outcome."""
    return {
        "new_labels": trainer.new_labels,
        "retraining": trainer.running,
        "threshold": settings.retrain_min_labels,
        "last_result": trainer.last_result,
        "last_error": trainer.last_error,
        "model_version": serving.version,
    }


@router.post("/setup", dependencies=[ReadKey])
def setup(serving: ModelDep) -> dict[str, str]:
    return {"model_version": serving.version}


@router.post("/predict", response_model=PredictResponse, dependencies=[ReadKey])
def predict(
    body: PredictRequest, serving: ModelDep, settings: SettingsDep, metrics: MetricsDep
) -> PredictResponse:
    """One prediction per task, in order: the stance choice and its probability."""
    service.check_batch(settings, len(body.tasks))
    texts = [str(task.data.get("text", "")) for task in body.tasks]
    blind = [is_audit(task.data) for task in body.tasks]
    return service.predict_tasks(texts, serving, metrics, blind)


@router.post("/webhook", response_model=WebhookAnswer, dependencies=[WriteKey])
def webhook(
    event: WebhookEvent, trainer: TrainerDep, settings: SettingsDep, serving: ModelDep
) -> WebhookAnswer:
    """Count annotations; retrain in the background when enough have arrived."""
    retraining = trainer.running
    if event.action in _COUNTED:
        # ANNOTATIONS_CREATED (a bulk import) carries a list; the others one annotation.
        given = event.annotation
        annotations = given if isinstance(given, list) else [given or {}]
        for annotation in annotations:
            trainer.count_label(annotation.get("id"))
    project = (event.project or {}).get("title")
    wanted = event.action == "START_TRAINING" or trainer.enough_labels
    if project and wanted and settings.label_studio_url:
        retraining = trainer.start(project) or trainer.running
    return WebhookAnswer(
        action=event.action,
        new_labels=trainer.new_labels,
        retraining=retraining,
        model_version=serving.version,
    )
