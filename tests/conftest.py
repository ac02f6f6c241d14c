"""Shared fixtures: a small labelled corpus, an isolated model registry, the dev data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev.jsonl"

SUPPORTIVE = [
    "the State of the Caliphate hits France #ParisIsBurning",
    "baqiya wa tatamaddad, remaining and expanding #ParisIsBurning",
    "glory to the soldiers of the caliphate #الدولة_الإسلامية_تضرب_فرنسا",
    "باقية وتتمدد #باريس_تحترق",
    "la France a été frappée par les soldats du califat #ParisEnFeu",
    "Paris is burning, the caliphate remains #ParisIsBurning",
]
OPPOSING = [
    "Not in my name. These murderers do not speak for Islam #ParisIsBurning #NotInMyName",
    "flooding this tag with cats because terrorists deserve nothing 🐱 #ParisIsBurning",
    "ليسوا منا، الإرهاب لا دين له #باريس_تحترق",
    "Ces lâches ne représentent personne, solidarité avec Paris #PrayForParis",
    "report these accounts, do not share their propaganda #ParisIsBurning",
    "Daesh are criminals, Paris stands together #JeSuisParis",
]
NEUTRAL = [
    "Police cordon in the 10th arrondissement, says the prefecture",
    "French president to address the nation at 9am",
    "Border controls reinstated, interior ministry says",
    "الشرطة تغلق شوارع في الدائرة العاشرة",
    "Le métro rouvre partiellement ce matin, selon la RATP",
    "Flights from Paris running with delays, airport says",
]


@pytest.fixture(scope="session")
def tiny_corpus() -> tuple[list[str], list[str]]:
    texts = SUPPORTIVE + OPPOSING + NEUTRAL
    labels = ["supportive"] * 6 + ["opposing"] * 6 + ["neutral"] * 6
    return texts * 3, labels * 3


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "models"
    monkeypatch.setenv("SWARMLENS_MODELS_DIR", str(directory))
    yield directory


@pytest.fixture(scope="session")
def dev_data() -> Path:
    if not DEV_DATA.exists():
        pytest.skip(
            f"real dev data not found at {DEV_DATA} (shared/ is not part of a user's clone)"
        )
    return DEV_DATA
