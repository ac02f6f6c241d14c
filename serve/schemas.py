"""Request and response models of every endpoint (they make up the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from swarmlens.classifier.posts.post import check_post_time, parse_time
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS, PLATFORMS, Label

Platform = Literal[PLATFORMS]  # type: ignore[valid-type]


class ClassifyItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256, description="Caller's id, echoed back.")
    text: str = Field(
        description="Post text as published; over 100,000 characters it is cut (and the "
        "result says truncated)."
    )
    lang: str | None = Field(
        default=None, max_length=16, description="ISO 639-1 code if known; detected otherwise."
    )


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts: list[ClassifyItem] = Field(min_length=1, description="1 to max_batch posts.")


def _per_label(kind: Any, default: Any = ...) -> dict[str, Any]:
    """One field per stance label, in score order: models follow the vocabulary."""
    return {label: (kind, default) for label in LABELS}


Scores = create_model("Scores", **_per_label(float))


class Contribution(BaseModel):
    term: str
    weight: float = Field(description="Share of the label's linear decision score.")


class ClassifyResult(BaseModel):
    id: str
    label: Label
    scores: Scores
    lang: str
    hashtags: list[str]
    truncated: bool | None = Field(
        default=None, description="True when the text was cut to 100,000 characters."
    )
    no_text: bool | None = Field(
        default=None,
        description="True when nothing in the text carries a weight in the model (empty, or "
        "only n-grams and words it never saw): the scores are then the model's "
        "fixed no-text answer (neutral 0.6, 0.2 each stance), not a reading of the text.",
    )
    explanation: list[Contribution] | None = None


class ClassifyResponse(BaseModel):
    model_version: str
    results: list[ClassifyResult]


class IngestItem(ClassifyItem):
    created_at: datetime = Field(
        description="Time of posting (ISO 8601; naive means UTC), between 2006-03-21 (the "
        "first tweet) and a day after the server's clock."
    )
    author: str | None = Field(default=None, max_length=256)
    platform: Platform = "other"
    retweet_of: str | None = Field(default=None, max_length=256)
    retweet_of_author: str | None = Field(default=None, max_length=256)
    reply_to: str | None = Field(default=None, max_length=256)

    @field_validator("created_at")
    @classmethod
    def _possible_time(cls, value: datetime) -> datetime:
        # The batch readers' bounds (posts.post.check_post_time), so the API and the CLI
        # accept the same posts; ValueError becomes a 422 naming the field.
        moment = parse_time(value)
        assert moment is not None
        return check_post_time(moment)  # type: ignore[return-value]


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts: list[IngestItem] = Field(min_length=1)


class IngestReject(BaseModel):
    index: int
    id: str | None
    reason: str


class IngestResponse(BaseModel):
    model_version: str
    accepted: int
    duplicate: int
    rejected: int
    rejects: list[IngestReject]


class DatasetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1,
        max_length=4096,  # PATH_MAX: no longer path can be opened
        description="Output of `swarmlens score` (directory or file).",
    )

    @field_validator("path")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\0" in value:
            raise ValueError("a path holds no NUL byte")
        return value


class DatasetResponse(BaseModel):
    id: str = Field(description="Use it to detach: DELETE /v1/datasets/{id}.")
    path: str
    rows: int
    duplicates: int = Field(
        0, description="Rows not counted: their post id is already counted in the store."
    )
    attached_at: datetime


class DatasetInfo(DatasetResponse):
    missing: bool = Field(False, description="The dataset's files are gone.")


VolumePoint = create_model(
    "VolumePoint",
    t=(str, Field(description="ISO start of the UTC bucket.")),
    **_per_label(int | None, None),
    total=(int, ...),
)


_DISPLAY = Field(description="The tag as people most often spell it (without '#'): what to "
               "show; ``hashtag``, its canonical key, is what to query by.")


class VolumeResponse(BaseModel):
    hashtag: str = Field(description="Canonical key the tag was matched by.")
    display: str | None = Field(None, description="The tag's most frequent spelling, when known.")
    interval: Literal["hour", "day"]
    exact: bool = Field(description="False when served from hourly, score-binned aggregates.")
    series: list[VolumePoint]
    model_version: str


TopHashtag = create_model(
    "TopHashtag",
    hashtag=(str, Field(description="Canonical key: the tag's identity.")),
    display=(str, _DISPLAY),
    total=(int, ...),
    **_per_label(int),
    flood_share=(float | None, Field(description="opposing / (supportive + opposing).")),
)


class TopHashtagsResponse(BaseModel):
    hashtags: list[TopHashtag]
    model_version: str


class EmergingHashtag(BaseModel):
    hashtag: str = Field(description="Canonical key: the tag's identity.")
    display: str = _DISPLAY
    recent: int = Field(description="posts in the window")
    baseline_per_window: float = Field(description="mean posts per baseline window")
    burst_score: float = Field(description="-log10 p_value: the ranking")
    accounts: int = Field(description="distinct accounts in the window")
    baseline_accounts: float = Field(description="mean distinct accounts per baseline window")
    expected_accounts: float = Field(description="baseline accounts smoothed by the prior")
    p_value: float = Field(
        description="P(X >= accounts), X ~ Poisson(expected_accounts): one-sided Poisson test"
    )


class Window(BaseModel):
    start: str
    end: str
    hours: int


class EmergingResponse(BaseModel):
    window: Window | None
    hashtags: list[EmergingHashtag]
    prior_accounts_per_window: float | None = Field(
        None, description="the prior's mean: the typical tag's distinct accounts per window"
    )
    model_version: str


TopDomain = create_model("TopDomain", domain=(str, ...), total=(int, ...), **_per_label(int))


class TopDomainsResponse(BaseModel):
    domains: list[TopDomain]
    model_version: str


class ModelInfo(BaseModel):
    model_version: str
    created_at: str
    labels: list[str]
    n_train: int
    data_fingerprint: str
    metrics: dict[str, Any] = Field(
        description="cross-validated figures on the training data; none for synthetic models"
    )
    training_data: dict[str, Any] = Field(
        default_factory=dict, description="what the model was trained on (kind, description)"
    )
    synthetic: bool = Field(
        default=False, description="trained on the synthetic demo corpus: no quality figure"
    )
    note: str | None = None


class LabelInfo(BaseModel):
    """A stance label as the dashboard and other clients should show it."""

    name: Label
    colour: str = Field(description="CSS hex colour used for this label")
    description: str


def label_infos() -> list[LabelInfo]:
    return [LabelInfo(name=x, colour=x.colour, description=x.description) for x in Label]


class FloodShareDefinition(BaseModel):
    """flood_share = numerator / (sum of denominator): counter-speech among stance-taking posts."""

    numerator: Label = FLOOD_PAIR[0]
    denominator: list[Label] = Field(default_factory=lambda: list(reversed(FLOOD_PAIR)))


class Info(BaseModel):
    service: str = "swarmlens"
    model_synthetic: bool = Field(
        default=False, description="the served model was trained on synthetic demo data"
    )
    model_note: str | None = None
    labels: list[LabelInfo] = Field(
        default_factory=label_infos,
        description="the stance labels in score order, with display colours",
    )
    flood_share: FloodShareDefinition = Field(default_factory=FloodShareDefinition)
    version: str
    model_version: str
    max_batch: int
    max_body_bytes: int
    max_inflight: int
    writes_need_api_key: bool
    reads_need_api_key: bool = False
    store: dict[str, int]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorBody(BaseModel):
    """The body of every API error, whatever raised it."""

    code: str = Field(description="stable error code (E###), see swarmlens.classifier.errors")
    message: str = Field(description="what went wrong and what to do about it")
    detail: Any = Field(description="the message again, or per-field errors for 422")


# -- Label Studio's ML-backend protocol --------------------------------------------------


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
    annotation: dict[str, Any] | list[dict[str, Any]] | None = None  # a list: ANNOTATIONS_*


class WebhookAnswer(BaseModel):
    action: str
    new_labels: int
    retraining: bool
    model_version: str


# -- audits and audited estimates --------------------------------------------------------


class AuditLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_id: str = Field(min_length=1, max_length=256)
    label: Label
    annotator: str | None = Field(default=None, max_length=256)
    probability: float | None = Field(
        default=None, gt=0, le=1, description="inclusion probability (absent: uniform draw)"
    )
    stratum: str | None = Field(default=None, max_length=64)


TruthShares = create_model(
    "TruthShares", __config__=ConfigDict(extra="forbid"), **_per_label(float | None, None)
)


class AuditTruth(BaseModel):
    """The true label shares of an audit's whole population: known only for a synthetic
    corpus (the demo's simulated audit file carries them as ``truth``), never for real
    posts. The dashboard shows them next to the estimate, marked synthetic."""

    model_config = ConfigDict(extra="forbid")

    simulated: Literal[True] = Field(description="always true: no real corpus has a truth")
    note: str | None = Field(default=None, max_length=500)
    posts: int = Field(ge=0, description="posts of the population the shares are of")
    shares: TruthShares  # type: ignore[valid-type]
    flood_share: float | None = Field(
        default=None, ge=0, le=1, description="true share of the flood label within stance"
    )


class AuditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audit_id: str = Field(min_length=1, max_length=256, description="One audit, one sample.")
    hashtag: str = Field(min_length=1, max_length=256, description="The hashtag sampled.")
    start: datetime | None = Field(default=None, description="Window sampled (inclusive).")
    end: datetime | None = Field(default=None, description="Window sampled (exclusive).")
    labels: list[AuditLabel] = Field(min_length=1, max_length=100_000)
    simulated: bool = Field(
        default=False, description="labels not from annotators (the demo's own labels)"
    )
    truth: AuditTruth | None = Field(
        default=None, description="the population's true shares (a simulated audit only)"
    )

    @field_validator("truth")
    @classmethod
    def _truth_is_simulated(cls, value: AuditTruth | None, info: Any) -> AuditTruth | None:
        if value is not None and not info.data.get("simulated"):
            raise ValueError("a truth is known only for a simulated audit (simulated: true)")
        return value


class AuditResponse(BaseModel):
    audit_id: str
    hashtag: str = Field(description="Canonical key of the audited hashtag.")
    inserted: int
    updated: int
    unchanged: int


class AuditSummary(BaseModel):
    audit_id: str
    hashtag: str
    start: str | None
    end: str | None
    labels: int = Field(description="audited posts stored (in the whole audit window)")
    simulated: bool
    truth: AuditTruth | None = Field(
        default=None,
        description="true shares of a simulated audit's population; absent unless stored",
    )


class AuditList(BaseModel):
    audits: list[AuditSummary]


class LabelEstimate(BaseModel):
    count: int = Field(description="classify-and-count: posts whose top label is this one")
    share: float | None = Field(description="classify-and-count share")
    estimate: float | None = Field(description="audited (prediction-powered) share")
    low: float | None = Field(description="lower bound of its 95% interval")
    high: float | None = Field(description="upper bound of its 95% interval")


class FloodEstimate(BaseModel):
    count_based: float | None
    estimate: float | None
    low: float | None
    high: float | None


EstimateLabels = create_model("EstimateLabels", **_per_label(LabelEstimate))
EstimatePoint = create_model(
    "EstimatePoint",
    t=(str, Field(description="ISO start of the UTC bucket.")),
    posts=(int, ...),
    **_per_label(float),
)


class EstimateResponse(BaseModel):
    hashtag: str
    start: str | None
    end: str | None
    posts: int
    audited: int = Field(description="audited posts in the window (0: unaudited)")
    model_version: str | None
    labels: EstimateLabels
    flood_share: FloodEstimate
    simulated: bool = Field(
        default=False,
        description="the audit used is simulated (the synthetic demo corpus's own labels), "
        "not labelled by people",
    )
    series: list[EstimatePoint] | None = Field(
        default=None,
        description="per-bucket audited shares (only with ?interval=), assuming the model's "
        "error rates are constant over the audit window",
    )
