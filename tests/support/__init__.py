"""Shared test helpers: paths, small corpora, real processes (``processes``), a real Label
Studio (``labelstudio``). Imported as ``tests.support``: pytest puts the project root on
the path because ``tests`` is a package; nothing edits ``sys.path``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The project's root (a clone)."""
DEV_DATA = ROOT.parent / "shared" / "data" / "dev.jsonl"
"""Real labelled posts beside the project (not part of a user's clone: tests skip without)."""
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium: browser tests drive it with playwright (never a downloaded browser)."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

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
