"""Perceptual maps of a market: PCA and correspondence-analysis biplots, ideal points, white space
and the price vs perceived-value map.

The ``competitors`` table (long rows ``brand, attribute, kind, value, source``) is pivoted to a
brands × attributes matrix of the ``rating`` rows.

* **PCA biplot** (Gabriel 1971; Jolliffe 2002, ch. 5). Columns are centred and, by default,
  scaled to unit variance across brands: ``Z = U Σ Vᵀ``. Brand coordinates are the principal
  scores ``U Σ = Z V``; attribute vectors are the loadings ``V`` (a form biplot); the share of
  variance of dimension *k* is ``σ_k² / Σ σ²``.
* **Correspondence analysis** (Greenacre 2007, ch. 14 and appendix A). With ``P = N / n``,
  row masses ``r``, column masses ``c`` and standardised residuals
  ``S = D_r^{-1/2} (P − r cᵀ) D_c^{-1/2} = U Σ Vᵀ``, row principal coordinates are
  ``F = D_r^{-1/2} U Σ`` and column principal coordinates ``G = D_c^{-1/2} V Σ``. The principal
  inertias are ``σ_k²``; they add up to the total inertia ``χ² / n``.
* **Ideal points** are passive (supplementary) rows: for PCA they are standardised with the
  brands' means and deviations and multiplied by ``V``; for CA their profile is multiplied by the
  column standard coordinates ``D_c^{-1/2} V`` (Greenacre 2007, ch. 12, transition formula).
* **White space**: a segment whose ideal point has no brand within ``radius`` on the map. The
  default radius is half the median distance between two brands on the same map, so the rule
  does not depend on the map's scale.
* **Price vs perceived value**: least-squares line of perceived value on price; a brand's
  residual above the line means more perceived value than its price predicts.

References
----------
Gabriel, K. R. (1971). The biplot graphic display of matrices with application to principal
component analysis. Biometrika 58(3), 453–467.
Jolliffe, I. T. (2002). Principal Component Analysis, 2nd ed. Springer.
Greenacre, M. (2007). Correspondence Analysis in Practice, 2nd ed. Chapman & Hall/CRC.
Hauser, J. R. and Koppelman, F. S. (1979). Alternative perceptual mapping techniques: relative
accuracy and usefulness. Journal of Marketing Research 16(4), 495–506.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import DataError

__all__ = [
    "PerceptualMap",
    "attribute_matrix",
    "perceptual_map",
    "white_space",
]

_COLUMNS = ("brand", "attribute", "kind", "value")
_SOURCE = "competitors"


def _check(competitors: pd.DataFrame) -> None:
    missing = [c for c in _COLUMNS if c not in competitors.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the competitors table needs "
            f"{', '.join(_COLUMNS)}",
            source=_SOURCE,
            column=missing[0],
        )


def attribute_matrix(competitors: pd.DataFrame, kind: str = "rating") -> pd.DataFrame:
    """Brands × attributes matrix of the rows of one ``kind``.

    Parameters
    ----------
    competitors
        Long rows ``brand, attribute, kind, value``.
    kind
        ``rating``, ``price``, ``feature`` or ``share_of_voice``.

    Returns
    -------
    pandas.DataFrame
        Index ``brand`` (order of first appearance), columns the attributes.

    Raises
    ------
    DataError
        A column is missing, no row has this kind, a (brand, attribute) pair repeats, or a brand
        lacks a value for an attribute other brands have.
    """
    _check(competitors)
    rows = competitors.loc[competitors["kind"] == kind, ["brand", "attribute", "value"]]
    if rows.empty:
        raise DataError(f"no rows of kind {kind!r}", source=_SOURCE, column="kind")
    dup = rows.duplicated(["brand", "attribute"])
    if dup.any():
        b, a = rows.loc[dup, ["brand", "attribute"]].iloc[0]
        raise DataError(
            f"brand {b!r} has more than one {kind} row for {a!r}; keep one per pair",
            source=_SOURCE,
        )
    brands = list(dict.fromkeys(rows["brand"]))
    attrs = list(dict.fromkeys(rows["attribute"]))
    wide = rows.pivot(index="brand", columns="attribute", values="value").loc[brands, attrs]
    wide = wide.astype(float)
    if wide.isna().any().any():
        i, j = np.argwhere(wide.isna().to_numpy())[0]
        b, a = wide.index[i], wide.columns[j]
        raise DataError(
            f"brand {b!r} has no {kind} value for {a!r}; add it or drop the attribute",
            source=_SOURCE,
        )
    wide.columns.name = None
    return wide


@dataclass(frozen=True)
class PerceptualMap:
    """A biplot: brands, attribute vectors and (optionally) segment ideal points.

    Attributes
    ----------
    method
        ``pca`` or ``ca``.
    ratings
        Brands × attributes input matrix.
    brands
        Brand coordinates (columns ``dim1``, ``dim2``, ...).
    attributes
        Attribute vectors: PCA loadings, or CA column principal coordinates.
    ideals
        Segment ideal points projected as passive rows, or ``None``.
    explained
        Share of variance (PCA) or of inertia (CA) of each dimension, over all dimensions.
    total
        Total variance (PCA: sum of squared singular values) or total inertia (CA: χ² / n).
    """

    method: str
    ratings: pd.DataFrame
    brands: pd.DataFrame
    attributes: pd.DataFrame
    ideals: pd.DataFrame | None
    explained: pd.Series
    total: float

    def to_frame(self) -> pd.DataFrame:
        """Every point of the map: columns ``kind`` (brand/attribute/ideal), ``name``, dims."""
        parts = [("brand", self.brands), ("attribute", self.attributes)]
        if self.ideals is not None:
            parts.append(("ideal", self.ideals))
        frames = [
            f.rename_axis("name").reset_index().assign(kind=k)[["kind", "name", *f.columns]]
            for k, f in parts
        ]
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return {
            "method": self.method,
            "points": self.to_frame().to_dict(orient="records"),
            "explained": {k: float(v) for k, v in self.explained.items()},
            "total": float(self.total),
        }


def _dims(k: int) -> list[str]:
    return [f"dim{i + 1}" for i in range(k)]


def _orient(v: np.ndarray) -> np.ndarray:
    """Sign convention: each singular vector's largest-magnitude entry is positive."""
    idx = np.abs(v).argmax(axis=0)
    return np.where(v[idx, np.arange(v.shape[1])] < 0, -1.0, 1.0)


def _pca(x: pd.DataFrame, ideals: pd.DataFrame | None, k: int, standardize: bool):
    mean = x.mean().to_numpy()
    sd = x.std(ddof=1).to_numpy() if standardize else np.ones(x.shape[1])
    if standardize and (sd == 0).any():
        a = x.columns[int(np.flatnonzero(sd == 0)[0])]
        raise DataError(
            f"every brand has the same rating on {a!r}; drop it or use standardize=False",
            source=_SOURCE,
        )
    z = (x.to_numpy() - mean) / sd
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    v = vt.T * _orient(vt.T)
    scores = z @ v[:, :k]
    proj = None if ideals is None else ((ideals.to_numpy() - mean) / sd) @ v[:, :k]
    return scores, v[:, :k], proj, s**2


def _ca(x: pd.DataFrame, ideals: pd.DataFrame | None, k: int):
    n = x.to_numpy()
    if (n < 0).any():
        raise DataError("correspondence analysis needs non-negative values", source=_SOURCE)
    p = n / n.sum()
    r, c = p.sum(axis=1), p.sum(axis=0)
    s_mat = (p - np.outer(r, c)) / np.sqrt(np.outer(r, c))
    u, s, vt = np.linalg.svd(s_mat, full_matrices=False)
    sign = _orient(vt.T)
    u, v = u * sign, vt.T * sign
    std_cols = v / np.sqrt(c)[:, None]  # column standard coordinates
    rows = (u * s) / np.sqrt(r)[:, None]
    cols = std_cols * s
    proj = None
    if ideals is not None:
        h = ideals.to_numpy()
        proj = (h / h.sum(axis=1, keepdims=True)) @ std_cols[:, :k]
    return rows[:, :k], cols[:, :k], proj, s**2


def perceptual_map(
    competitors: pd.DataFrame,
    *,
    method: Literal["pca", "ca"] = "pca",
    ideals: pd.DataFrame | None = None,
    n_components: int = 2,
    standardize: bool = True,
) -> PerceptualMap:
    """Perceptual map of the brands' ratings, with segment ideals as passive points.

    Parameters
    ----------
    competitors
        Long rows ``brand, attribute, kind, value``; the ``rating`` rows are mapped.
    method
        ``pca`` (Gabriel 1971 biplot of the standardised ratings) or ``ca`` (Greenacre 2007).
    ideals
        Segments × attributes ideal ratings on the brands' scale (e.g. from
        :func:`streamwise.upstream.competitors.ideal_points`); projected, not fitted.
    n_components
        Dimensions kept (at most brands − 1 and the number of attributes).
    standardize
        PCA only: scale each attribute to unit variance across brands (else only centre it).

    Returns
    -------
    PerceptualMap

    Raises
    ------
    DataError
        Missing columns, fewer than three brands, or ideals lacking a mapped attribute.
    """
    x = attribute_matrix(competitors, "rating")
    if len(x) < 3:
        raise DataError(f"a map needs at least 3 brands; got {len(x)}", source=_SOURCE)
    k = max(1, min(n_components, len(x) - 1, x.shape[1]))
    if ideals is not None:
        lack = [a for a in x.columns if a not in ideals.columns]
        if lack:
            raise DataError(
                f"ideal points lack attribute(s) {', '.join(map(repr, lack))}",
                source="ideals",
                column=lack[0],
            )
        ideals = ideals.loc[:, list(x.columns)].astype(float)
    if method == "pca":
        brands, attrs, proj, eig = _pca(x, ideals, k, standardize)
    elif method == "ca":
        brands, attrs, proj, eig = _ca(x, ideals, k)
    else:
        raise ValueError(f"method must be 'pca' or 'ca', not {method!r}")
    cols = _dims(k)
    total = float(eig.sum())
    return PerceptualMap(
        method=method,
        ratings=x,
        brands=pd.DataFrame(brands, index=x.index, columns=cols),
        attributes=pd.DataFrame(attrs, index=pd.Index(x.columns, name="attribute"), columns=cols),
        ideals=None if proj is None else pd.DataFrame(proj, index=ideals.index, columns=cols),
        explained=pd.Series(eig[:k] / total, index=cols, name="explained"),
        total=total,
    )


def white_space(pmap: PerceptualMap, *, radius: float | None = None) -> pd.DataFrame:
    """Segments whose ideal point has no brand within ``radius`` on the map.

    Parameters
    ----------
    pmap
        A map made with ``ideals``.
    radius
        Distance on the map within which a brand serves an ideal. Default: half the median
        distance between two brands on the same map.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment``, ``nearest_brand``, ``distance``, ``brands_within``,
        ``radius``, ``white_space`` (no brand within the radius) and the ideal's coordinates.
    """
    if pmap.ideals is None:
        raise DataError("the map has no ideal points; pass ideals= to perceptual_map")
    b = pmap.brands.to_numpy()
    if radius is None:
        pair = np.linalg.norm(b[:, None, :] - b[None, :, :], axis=2)
        radius = float(np.median(pair[np.triu_indices(len(b), 1)]) / 2)
    rows = []
    for seg, point in pmap.ideals.iterrows():
        d = np.linalg.norm(b - point.to_numpy(), axis=1)
        i = int(d.argmin())
        rows.append(
            {
                "segment": seg,
                "nearest_brand": pmap.brands.index[i],
                "distance": float(d[i]),
                "brands_within": int((d <= radius).sum()),
                "radius": radius,
                "white_space": bool(d[i] > radius),
                **point.to_dict(),
            }
        )
    return pd.DataFrame(rows)
