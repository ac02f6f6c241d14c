"""Label Studio's ML-backend protocol under /labelstudio/: health, setup, predict, webhook.

Connecting a project to ``http://HOST:PORT/labelstudio`` (``ls.ml.create``) makes Label
Studio pre-label new tasks with the served model. The webhook counts new annotations and,
once ``SWARMLENS_RETRAIN_MIN_LABELS`` have arrived (or on START_TRAINING), retrains in a
background thread: pull, train, register, push predictions, then serve the new model. The
request that triggers it never waits for it.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from serve.security import require_key

router = APIRouter(prefix="/labelstudio", tags=["labelstudio"])


class LSTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    tasks: list[LSTask] = Field(default_factory=list, max_length=10_000)
    project: str | None = None
    label_config: str | None = None


class LSPrediction(BaseModel):
    result: list[dict[str, Any]]
    score: float
    model_version: str


class PredictResponse(BaseModel):
    results: list[LSPrediction]
    model_version: str


class WebhookEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: str = Field(max_length=64)
    project: dict[str, Any] | None = None
    annotation: dict[str, Any] | None = None


class WebhookAnswer(BaseModel):
    action: str
    new_labels: int
    retraining: bool
    model_version: str


class Trainer:
    """Counts new labels and runs one background retrain at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.new_labels = 0
        self.thread: threading.Thread | None = None
        self.last_result: dict[str, Any] | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, app: Any, project: str) -> bool:
        with self.lock:
            if self.running:
                return False
            self.new_labels = 0
            self.thread = threading.Thread(target=self._run, args=(app, project), daemon=True)
            self.thread.start()
            return True

    def _run(self, app: Any, project: str) -> None:
        from annotation.workflow import connect, retrain
        from classifier import registry

        settings = app.state.settings
        try:
            ls = connect(settings.label_studio_url, settings.label_studio_api_key)
            out = settings.data_dir / "annotations" / f"{_safe(project)}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            result = retrain(ls, project, out, say=lambda m: None)
            model, entry = registry.load(result["model_version"])
            with app.state.model_lock:
                app.state.model, app.state.entry = model, entry
            app.state.metrics.model.clear()
            app.state.metrics.model.labels(entry.id).set(1)
            self.last_result, self.last_error = result, None
        except Exception as exc:  # a failed retrain must not take the server down
            self.last_error = f"{type(exc).__name__}: {exc}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "project"


def trainer(request: Request) -> Trainer:
    state = request.app.state
    if not hasattr(state, "trainer"):
        state.trainer = Trainer()
    return state.trainer


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    return {"status": "UP", "model_class": "swarmlens", "model_version": request.app.state.entry.id}


@router.get("/status")
def training_status(request: Request) -> dict[str, Any]:
    """What the webhook has seen and the last background retrain's outcome."""
    coach = trainer(request)
    return {
        "new_labels": coach.new_labels,
        "retraining": coach.running,
        "threshold": request.app.state.settings.retrain_min_labels,
        "last_result": coach.last_result,
        "last_error": coach.last_error,
        "model_version": request.app.state.entry.id,
    }


@router.post("/setup")
def setup(request: Request) -> dict[str, str]:
    return {"model_version": request.app.state.entry.id}


@router.post("/predict", response_model=PredictResponse)
def predict(body: PredictRequest, request: Request) -> PredictResponse:
    """One prediction per task, in order: the stance choice and its probability."""
    from annotation.project import choice_result
    from serve.routers.classify import check_batch

    check_batch(request, len(body.tasks))
    state = request.app.state
    texts = [str(task.data.get("text", "")) for task in body.tasks]
    with state.model_lock:
        model, version = state.model, state.entry.id
        proba = model.predict_proba(texts) if texts else []
    classes = [str(c) for c in model.classes_]
    state.metrics.classified.inc(len(texts))
    results = [
        LSPrediction(
            result=choice_result(classes[int(row.argmax())]),
            score=round(float(row.max()), 6),
            model_version=version,
        )
        for row in proba
    ]
    return PredictResponse(results=results, model_version=version)


@router.post("/webhook", response_model=WebhookAnswer, dependencies=[Depends(require_key)])
def webhook(event: WebhookEvent, request: Request) -> WebhookAnswer:
    """Count annotations; retrain in the background when enough have arrived."""
    state = request.app.state
    coach = trainer(request)
    retraining = coach.running
    if event.action in ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED"):
        with coach.lock:
            coach.new_labels += 1
    project = (event.project or {}).get("title")
    enough = coach.new_labels >= state.settings.retrain_min_labels
    if project and (event.action == "START_TRAINING" or enough) and state.settings.label_studio_url:
        retraining = coach.start(request.app, project) or coach.running
    return WebhookAnswer(
        action=event.action,
        new_labels=coach.new_labels,
        retraining=retraining,
        model_version=state.entry.id,
    )
