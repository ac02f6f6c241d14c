"""Audited label shares: prediction-powered inference (PPI++) over one hashtag's posts.

Classify-and-count reports the share of posts whose top label is each stance; its error
is the classifier's, different for every hashtag and invisible. An *audit* is a uniform
random sample of the hashtag's own posts labelled by people. Prediction-powered inference
(Angelopoulos et al., Science 2023; PPI++, arXiv:2311.01453) combines the two: the mean of
the model's calibrated probabilities over all N posts, corrected by the mean error of those
probabilities on the n audited posts. It is unbiased whatever the model's errors, and
narrower than the audit alone when the model is good.

For label k with calibrated probability f_k and audited indicator Y_k:

    theta_k = lam * mean_N(f_k) + mean_n(Y_k - lam * f_k)
    se_k^2  = var_N(lam * f_k) / N + var_n(Y_k - lam * f_k) / n

with one power-tuning ``lam`` in [0, 1] for all labels (the value minimising the summed
variance, as ``ppi_py.ppi_mean_ci`` chooses it with ``lam_optim_mode="overall"``). One
``lam`` keeps the three estimates summing to one. The flood share,
opposing / (supportive + opposing), gets its interval from the delta method on the joint
covariance of the two estimates.

Written out rather than calling ``ppi_py`` at run time because importing ``ppi_py`` turns
every warning off process-wide (``warnings.simplefilter("ignore")``) and pulls pandas,
statsmodels and gdown into the server; ``tests/unit/test_estimate.py`` checks these
figures against ``ppi_py`` on the same data.

Designs other than uniform (``annotate push --strategy audit --design active`` or
``--stratify lang|label``) record each audited post's inclusion probability ``pi_i`` (and its
stratum). The estimate then weights each audited residual by ``1 / pi_i`` (active
statistical inference, Zrnic & Candes 2024), with the weights normalised to mean one over
the audited posts, exactly as ``ppi_py.ppi_mean_ci(..., w=1 / pi)`` does:

    theta_k = lam * mean_N(f_k) + mean_n(w * (Y_k - lam * f_k))
    se_k^2  = var_N(lam * f_k) / N + var_n(w * (Y_k - lam * f_k)) / n

and ``lam`` chosen from the weighted gradients as ``ppi_py`` chooses it. With strata the
second term is summed over strata (``sum_h W_h^2 var_h / n_h``, W_h the stratum's share of
the weight, var_h the stratum's unbiased spread: divided by n_h - 1). A post without a
probability counts as drawn uniformly; an audit whose posts all lack one (every uniform
audit) gives exactly the unweighted figures above.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from swarmlens.classifier.errors import AuditError
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS

CONFIDENCE = 0.95
"""Level of every interval reported."""
MIN_AUDITED = 2
"""An interval needs a variance: at least this many audited posts."""


@dataclass(frozen=True)
class ShareEstimate:
    """Prediction-powered label shares with their joint covariance.

    theta: raw estimates in ``LABELS`` order (may stray slightly outside [0, 1]).
    cov: their covariance (3 x 3). lam: the power-tuning weight used.
    """

    theta: np.ndarray
    cov: np.ndarray
    lam: float
    posts: int
    audited: int

    def interval(self, k: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
        half = _z(confidence) * float(np.sqrt(max(self.cov[k, k], 0.0)))
        return float(self.theta[k]) - half, float(self.theta[k]) + half

    def flood(self, confidence: float = CONFIDENCE) -> tuple[float, float, float] | None:
        """(estimate, low, high) of opposing / (supportive + opposing), or None when the
        estimated stance share is not positive."""
        counter, message = (LABELS.index(x) for x in FLOOD_PAIR)
        o, s = float(self.theta[counter]), float(self.theta[message])
        total = o + s
        if total <= 0:
            return None
        share = o / total
        # d(o / (o + s)) / do = s / t^2, d/ds = -o / t^2
        grad = np.zeros(len(LABELS))
        grad[counter], grad[message] = s / total**2, -o / total**2
        se = float(np.sqrt(max(grad @ self.cov @ grad, 0.0)))
        half = _z(confidence) * se
        return share, share - half, share + half


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def sample_rows(population: int, n: int, seed: int) -> list[int]:
    """A seeded uniform sample without replacement of ``min(n, population)`` rows, sorted:
    how every audit is drawn (the annotation workflow and the demo's simulated audit)."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(population, size=min(n, population), replace=False).tolist())


def one_hot(labels: Sequence[str]) -> np.ndarray:
    """Audited labels as indicator rows in ``LABELS`` order."""
    index = {label: i for i, label in enumerate(LABELS)}
    out = np.zeros((len(labels), len(LABELS)))
    for row, label in enumerate(labels):
        out[row, index[label]] = 1.0
    return out


def power_tuning(y: np.ndarray, f_audit: np.ndarray, f_all: np.ndarray) -> float:
    """The ``lam`` in [0, 1] minimising the summed variance of the estimates (PPI++)."""
    n, big_n = len(y), len(f_all)
    yc = y - y.mean(axis=0)
    fc = f_audit - f_audit.mean(axis=0)
    covariance = float(np.sum(yc * fc)) / n
    pooled = np.concatenate([f_audit, f_all], axis=0)
    variance = float(np.sum(np.var(pooled, axis=0, ddof=1)))
    if variance <= 0:
        # The model says the same for every post: its predictions carry no information.
        return 0.0
    return float(np.clip(covariance / ((1 + n / big_n) * variance), 0.0, 1.0))


def weighted_power_tuning(
    y: np.ndarray, f_audit: np.ndarray, f_all: np.ndarray, w: np.ndarray
) -> float:
    """``power_tuning`` with audit weights (mean one), as ``ppi_py`` computes it with ``w``."""
    n, big_n = len(y), len(f_all)
    theta = f_all.mean(axis=0) + (w * (y - f_audit)).mean(axis=0)
    grads, grads_hat = w * (y - theta), w * (f_audit - theta)
    gc, hc = grads - grads.mean(axis=0), grads_hat - grads_hat.mean(axis=0)
    covariance = float(np.sum(gc * hc)) / n
    pooled = np.concatenate([grads_hat, f_all - theta], axis=0)
    variance = float(np.sum(np.var(pooled, axis=0, ddof=1)))
    if variance <= 0:
        return 0.0
    return float(np.clip(covariance / ((1 + n / big_n) * variance), 0.0, 1.0))


def audit_weights(
    probabilities: Sequence[float | None] | None, population: int
) -> np.ndarray | None:
    """Inverse inclusion probabilities, normalised to mean one; None when every post was
    drawn uniformly (no probability recorded, or all equal). A missing probability counts
    as the uniform design's n / N."""
    if probabilities is None or all(p is None for p in probabilities):
        return None
    n = len(probabilities)
    pi = np.array([n / population if p is None else float(p) for p in probabilities])
    if np.any(pi <= 0) or np.any(pi > 1):
        raise AuditError("an inclusion probability is outside (0, 1]: the audit file is damaged")
    if np.allclose(pi, pi[0], rtol=1e-12, atol=0):
        return None
    w = 1.0 / pi
    return w / w.mean()


def _rectifier_cov(
    rectifier: np.ndarray, w: np.ndarray, strata: Sequence[str | None] | None
) -> np.ndarray:
    """Covariance of mean_n(w * rectifier), summed over strata when there are any (strata
    holding fewer than two audited posts are pooled together: a variance needs two).

    Without strata it is ``ppi_py``'s (spreads divided by n). With strata each stratum's
    spread is divided by n_h - 1, the unbiased stratified estimator: strata of ten or
    twenty audited posts are common, and dividing by n_h there understates the variance
    by 5-10% and left 50-post audits short of their 95% coverage (bench/estimates.py)."""
    n = len(rectifier)
    groups: dict[str | None, list[int]] = {}
    for row, stratum in enumerate(strata if strata is not None else [None] * n):
        groups.setdefault(stratum, []).append(row)
    small = [row for rows in groups.values() if len(rows) < MIN_AUDITED for row in rows]
    parts = [rows for rows in groups.values() if len(rows) >= MIN_AUDITED]
    if small:
        parts.append(small)
    cov = np.zeros((rectifier.shape[1], rectifier.shape[1]))
    ddof = 1 if len(parts) > 1 else 0
    for rows in parts:
        share = w[rows].sum() / n
        if len(rows) < MIN_AUDITED:
            # A lone small stratum: its weight share times the overall spread.
            term = w[:, None] * rectifier
            cov += share**2 * np.cov(term.T, ddof=ddof) / len(rows)
            continue
        v = w[rows] / w[rows].mean()
        cov += share**2 * np.cov((v[:, None] * rectifier[rows]).T, ddof=ddof) / len(rows)
    return cov


def ppi_shares(
    f_all: np.ndarray,
    f_audit: np.ndarray,
    y_audit: np.ndarray,
    lam: float | None = None,
    weights: np.ndarray | None = None,
    strata: Sequence[str | None] | None = None,
) -> ShareEstimate:
    """PPI++ estimates of the label shares.

    f_all: calibrated probabilities of every post in the population (N x 3).
    f_audit, y_audit: probabilities and one-hot audited labels of the audited posts (n x 3).
    lam: power tuning (None: chosen from the data; 1: plain PPI; 0: the audit alone).
    weights: inverse inclusion probabilities of the audited posts (``audit_weights``);
    None for a uniform audit. strata: each audited post's stratum, for a stratified audit.
    """
    n, big_n = len(y_audit), len(f_all)
    if n < MIN_AUDITED:
        raise AuditError(
            f"{n} audited post(s) in this window: an interval needs at least {MIN_AUDITED}; "
            "audit more posts (swarmlens annotate push --strategy audit)"
        )
    if weights is not None or (strata is not None and len(set(strata)) > 1):
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        w = w / w.mean()
        if lam is None:
            lam = weighted_power_tuning(y_audit, f_audit, f_all, w[:, None])
        imputed = lam * f_all
        rectifier = y_audit - lam * f_audit
        theta = imputed.mean(axis=0) + (w[:, None] * rectifier).mean(axis=0)
        cov = np.cov(imputed.T, ddof=0) / big_n + _rectifier_cov(rectifier, w, strata)
        return ShareEstimate(theta, np.atleast_2d(cov), float(lam), big_n, n)
    if lam is None:
        lam = power_tuning(y_audit, f_audit, f_all)
    imputed = lam * f_all
    rectifier = y_audit - lam * f_audit
    theta = imputed.mean(axis=0) + rectifier.mean(axis=0)
    cov = np.cov(imputed.T, ddof=0) / big_n + np.cov(rectifier.T, ddof=0) / n
    return ShareEstimate(theta, np.atleast_2d(cov), float(lam), big_n, n)


def design_weights(
    design: Sequence[tuple[float | None, str | None]] | None, population: int
) -> tuple[np.ndarray | None, list[str | None] | None]:
    """(weights, strata) for ``ppi_shares`` from per-post (probability, stratum)."""
    if not design:
        return None, None
    strata = [stratum for _, stratum in design]
    weights = audit_weights([p for p, _ in design], population)
    return weights, (strata if len(set(strata)) > 1 else None)


def _clip(value: float) -> float:
    return round(min(max(value, 0.0), 1.0), 4)


def estimate_report(
    hashtag: str,
    start: str | None,
    end: str | None,
    scores: Mapping[str, Sequence[float]] | np.ndarray | Sequence[Sequence[float]],
    predicted: Sequence[str],
    audited: Sequence[tuple[int, str]],
    model_version: str | None,
    unaudited_ok: bool = False,
    design: Sequence[tuple[float | None, str | None]] | None = None,
) -> dict[str, Any]:
    """The estimate's JSON: classify-and-count beside the audited estimate, per label.

    scores: the population's calibrated probabilities (N x 3, ``LABELS`` order).
    predicted: each post's top label (what classify-and-count counts).
    audited: (row in the population, audited label) per audited post.
    design: (inclusion probability, stratum) per audited post, in the same order, for an
    audit drawn by another design than uniform (None: uniform).
    unaudited_ok: with fewer than ``MIN_AUDITED`` audited posts (or no post), answer the
    classify-and-count figures with null estimates instead of raising ``AuditError``.
    Estimates and bounds are clipped to [0, 1].
    """
    f_all = np.asarray(scores, dtype=float).reshape(-1, len(LABELS))
    big_n = len(f_all)
    result = None
    if big_n == 0 and not unaudited_ok:
        raise AuditError(f"no post with #{hashtag} in this window: nothing to estimate")
    if big_n and (len(audited) >= MIN_AUDITED or not unaudited_ok):
        rows = np.array([row for row, _ in audited], dtype=int)
        weights, strata = design_weights(design, big_n)
        result = ppi_shares(
            f_all, f_all[rows], one_hot([label for _, label in audited]), None, weights, strata
        )
    counts = {label: 0 for label in LABELS}
    for label in predicted:
        counts[label] = counts.get(label, 0) + 1
    labels: dict[str, Any] = {}
    for k, label in enumerate(LABELS):
        low, high = result.interval(k) if result else (None, None)
        labels[label] = {
            "count": counts[label],
            "share": round(counts[label] / big_n, 4) if big_n else None,
            "estimate": _clip(float(result.theta[k])) if result else None,
            "low": _clip(low) if result else None,
            "high": _clip(high) if result else None,
        }
    counter, message = FLOOD_PAIR
    stance = counts[counter] + counts[message]
    flood = result.flood() if result else None
    return {
        "hashtag": hashtag,
        "start": start,
        "end": end,
        "posts": big_n,
        "audited": len(audited) if result else 0,
        "model_version": model_version,
        "labels": labels,
        "flood_share": {
            "count_based": round(counts[counter] / stance, 4) if stance else None,
            "estimate": None if flood is None else _clip(flood[0]),
            "low": None if flood is None else _clip(flood[1]),
            "high": None if flood is None else _clip(flood[2]),
        },
    }


def bucket_estimates(
    scores: Sequence[Sequence[float]] | np.ndarray,
    buckets: Sequence[str],
    audited: Sequence[tuple[int, str]],
    design: Sequence[tuple[float | None, str | None]] | None = None,
) -> list[dict[str, Any]]:
    """Per-bucket audited shares, ASSUMING the model's error rates are constant over the
    audit window: each bucket's mean probability, corrected by the whole audit's mean
    error (an audit of ~100 posts cannot measure the error of each hour).

    buckets: each post's bucket label (e.g. its UTC hour). Returns, per bucket in order,
    {'t', 'posts', <label>: estimate (clipped to [0, 1])}.
    """
    f_all = np.asarray(scores, dtype=float).reshape(-1, len(LABELS))
    rows = np.array([row for row, _ in audited], dtype=int)
    y = one_hot([label for _, label in audited])
    weights, _ = design_weights(design, len(f_all))
    if weights is None:
        lam = power_tuning(y, f_all[rows], f_all)
        correction = (y - lam * f_all[rows]).mean(axis=0)
    else:
        lam = weighted_power_tuning(y, f_all[rows], f_all, weights[:, None])
        correction = (weights[:, None] * (y - lam * f_all[rows])).mean(axis=0)
    where: dict[str, list[int]] = {}
    for row, bucket in enumerate(buckets):
        where.setdefault(bucket, []).append(row)
    series = []
    for bucket in sorted(where):
        theta = lam * f_all[where[bucket]].mean(axis=0) + correction
        series.append(
            {
                "t": bucket,
                "posts": len(where[bucket]),
                **{label: _clip(float(theta[k])) for k, label in enumerate(LABELS)},
            }
        )
    return series


def match_audit(
    post_ids: Sequence[str], labels: Mapping[str, str], hashtag: str
) -> list[tuple[int, str]]:
    """(row, label) of each audited post; an audited id outside the population is an error.

    post_ids: the population's ids, in the order of its scores. labels: post id -> label.
    """
    where = {post_id: row for row, post_id in enumerate(post_ids)}
    for post_id in labels:
        if post_id not in where:
            raise AuditError(
                f"audited post {post_id!r} is not among the posts with #{hashtag} in this "
                "window: an audit must be a sample of exactly these posts (check --hashtag, "
                "--start, --end and the dataset)"
            )
    return [(where[post_id], label) for post_id, label in labels.items()]


def read_audit(path: Path) -> dict[str, str]:
    """post id -> audited label from a JSONL file (``id`` or ``post_id``, and ``label``)."""
    return read_audit_design(path)[0]


def read_audit_design(
    path: Path,
) -> tuple[dict[str, str], dict[str, tuple[float | None, str | None]]]:
    """(post id -> audited label, post id -> (inclusion probability, stratum)) from a JSONL
    audit file; ``probability`` and ``stratum`` are optional (absent: a uniform draw). A
    drawn post whose ``label`` is still null (``annotate push --out``) is skipped.

    A post id counts once: a repeated id with the same label is kept once, with another
    label it is an error (resolve it in the annotation tool). Any malformed line is an
    error naming the line: dropping audited posts silently would change the estimate.
    """
    if not path.is_file():
        raise AuditError(f"audit file {path} does not exist")
    labels: dict[str, str] = {}
    design: dict[str, tuple[float | None, str | None]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise AuditError(f"{path}:{number}: not a JSON object ({exc})") from None
            if not isinstance(record, dict):
                raise AuditError(f"{path}:{number}: not a JSON object")
            post_id = record.get("id", record.get("post_id"))
            label = record.get("label")
            if label is None and "label" in record and record.get("audit"):
                continue  # drawn (``annotate push ... --out``) but not labelled yet
            if not isinstance(post_id, str | int) or str(post_id) == "":
                raise AuditError(f"{path}:{number}: no 'id' (or 'post_id')")
            if label not in LABELS:
                raise AuditError(
                    f"{path}:{number}: label {label!r} is not one of {', '.join(LABELS)}"
                )
            post_id = str(post_id)
            if labels.get(post_id, label) != label:
                raise AuditError(
                    f"{path}:{number}: post {post_id!r} audited twice with different labels "
                    f"({labels[post_id]}, {label}); resolve it and pull again"
                )
            labels[post_id] = label
            probability, stratum = record.get("probability"), record.get("stratum")
            if probability is not None and (
                isinstance(probability, bool)
                or not isinstance(probability, int | float)
                or not 0 < probability <= 1
            ):
                raise AuditError(f"{path}:{number}: probability {probability!r} is not in (0, 1]")
            design[post_id] = (
                None if probability is None else float(probability),
                None if stratum is None else str(stratum),
            )
    if not labels:
        raise AuditError(f"audit file {path} holds no audited post")
    return labels, design
