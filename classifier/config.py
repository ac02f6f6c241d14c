"""Defaults declared in one place. Every other module reads them from here."""

from __future__ import annotations

from pathlib import Path

LABELS: tuple[str, ...] = ("supportive", "opposing", "neutral")
"""The stance labels, in the order used by every score vector and output."""

PLATFORMS: tuple[str, ...] = ("twitter", "telegram", "vkontakte", "other")

DETECT_LANGUAGES: tuple[str, ...] = (
    "ar",
    "en",
    "fr",
    "ru",
    "de",
    "es",
    "it",
    "nl",
    "tr",
    "fa",
    "ur",
    "id",
    "ms",
    "uk",
    "bs",
    "sq",
    "sv",
    "da",
    "pt",
    "he",
)
"""Languages lingua chooses between when a source gives none."""

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
MANIFEST_NAME = "manifest.json"
DEFAULT_MODEL_NAME = "default"

READ_CHUNK_SIZE = 5_000
"""Posts per batch when scoring: large enough to amortise, small enough for flat memory."""

MAX_TEXT_CHARS = 100_000
"""Longer texts are cut (and the cut is counted): no post on these networks is longer."""

MODEL_DEFAULTS: dict = {
    "char_ngram_range": (1, 5),
    "word_features": True,
    "hashtag_words": False,
    "min_df": 2,
    "sublinear_tf": True,
    "C": 1.0,
    "alpha": 1.0,
    "class_weight": "balanced",
    "calibration_folds": 3,
}
"""Hyper-parameters of the default stance classifier (see bench/accuracy.py for why)."""

BATCH_CHUNK_RECORDS = 20_000
"""Raw records per chunk in batch scoring: the unit of parallel work and of resumption."""
