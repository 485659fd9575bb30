"""Docstring paragraphs shared by the estimators, written once.

A class's docstring holds a placeholder such as ``{n_jobs}`` on its own line where the paragraph
goes, and the class is decorated with ``@Substitution(n_jobs=N_JOBS_ADDED, ...)`` (the pattern of
imbalanced-learn's ``imblearn.utils._docstring``). The paragraphs are written here without
indentation; each is indented as its placeholder is.
"""

from __future__ import annotations

import re
import textwrap
from typing import TypeVar

from equipoise.neighbors._select import ALGORITHMS, HNSW_DEFAULTS

_T = TypeVar("_T")


class Substitution:
    """Decorate a class (or function) to replace each ``{name}`` of its docstring by the text
    given as ``name=``.

    Only the given names are replaced, so the docstring's other braces (``{'all', 'mode'}``, a
    dict) need no escaping; every line of a multi-line text after the first gets the indentation
    of the placeholder's line. A name that the docstring lacks is an error (a stale decorator).
    Under ``python -OO`` (no docstrings) it does nothing.
    """

    def __init__(self, **params: str):
        self.params = params

    def __call__(self, obj: _T) -> _T:
        doc = obj.__doc__
        if not doc:
            return obj
        for name, text in self.params.items():
            pattern = re.compile(r"^([ \t]*)(.*)\{" + re.escape(name) + r"\}", re.MULTILINE)
            if not pattern.search(doc):
                raise ValueError(f"the docstring of {obj!r} has no {{{name}}}")

            def indented(m: re.Match, text: str = text) -> str:
                indent = m.group(1)
                lines = text.split("\n")
                rest = [indent + line if line else line for line in lines[1:]]
                return indent + m.group(2) + "\n".join([lines[0], *rest])

            doc = pattern.sub(indented, doc)
        obj.__doc__ = doc
        return obj


_NBSP = "\x00"


def _paragraph(head: str, body: str) -> str:
    """A numpydoc entry: ``head``, then ``body`` wrapped and indented by 4 (a line of the class
    docstring at most 100 characters long). A quoted name ('not majority') or a literal
    (``...``) is not split across lines."""
    kept = re.sub(
        r"``.*?``|(?<![A-Za-z])'[A-Za-z0-9 _-]{1,20}'",
        lambda m: m.group(0).replace(" ", _NBSP),
        body,
    )
    wrapped = textwrap.fill(
        kept,
        width=92,
        initial_indent="    ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    return head + "\n" + wrapped.replace(_NBSP, " ")


#: HNSW's options with their defaults, as a ``neighbors=`` dict (from the core's one source).
HNSW_EXAMPLE = (
    '{"algorithm": "hnsw", ' + ", ".join(f'"{k}": {v}' for k, v in HNSW_DEFAULTS.items()) + "}"
)

SAMPLING_STRATEGY_OVER = _paragraph(
    "sampling_strategy : float, str, dict or callable, default='auto'",
    "Which classes to grow and to what size, with imbalanced-learn's meaning: a float is the"
    " wanted ratio minority / majority (binary only); 'minority', 'not minority', 'not majority',"
    " 'all' and 'auto' (= 'not majority') name the classes to equalise; a dict gives the wanted"
    " count of each class; a callable takes ``y`` and returns such a dict.",
)

SAMPLING_STRATEGY_CLEAN = _paragraph(
    "sampling_strategy : str, list or callable, default='auto'",
    "Classes to clean, with imbalanced-learn's meaning: 'majority', 'not minority',"
    " 'not majority', 'all', 'auto' (= 'not minority'), or a list of classes.",
)

RANDOM_STATE = _paragraph(
    "random_state : int, RandomState instance or None, default=None",
    "Seed of the generator; the same seed gives the same output whatever ``n_jobs`` is.",
)

_N_JOBS_HEAD = "n_jobs : int, default=None"
_N_JOBS_BODY = (
    "Threads of the core: None or -1 use every core, -2 all but one, a positive number that many."
)
_ADDED = "(An addition to imbalanced-learn's parameters.)"

#: ``n_jobs`` of an estimator whose imbalanced-learn twin has one.
N_JOBS = _paragraph(_N_JOBS_HEAD, _N_JOBS_BODY)
#: ``n_jobs`` of an estimator whose imbalanced-learn twin has none.
N_JOBS_ADDED = _paragraph(_N_JOBS_HEAD, f"{_N_JOBS_BODY} {_ADDED}")

#: The fitted attributes every sampler sets from its input.
FEATURES_IN = "\n".join(
    [
        _paragraph("n_features_in_ : int", "Number of features seen in ``fit_resample``."),
        _paragraph(
            "feature_names_in_ : ndarray of shape (n_features_in_,)",
            "Names of the features, when ``X`` has string column names.",
        ),
    ]
)


def neighbors_paragraph(scope: str, exact: str, hnsw: str, ignored: str | None = None) -> str:
    """The ``neighbors`` paragraph of an estimator: ``scope`` (what the index serves), what the
    exact names do (``exact``, after "'auto', 'exact' and 'kdtree'"), what 'hnsw' does, and when
    the parameter is ignored."""
    names = ", ".join(f"'{a}'" for a in ALGORITHMS)
    exact_names = [f"'{a}'" for a in ALGORITHMS if a != "hnsw"]
    body = (
        f"{scope}: {', '.join(exact_names[:-1])} and {exact_names[-1]} {exact}; 'hnsw' {hnsw};"
        f" a dict such as ``{HNSW_EXAMPLE}`` sets HNSW's options."
    )
    if ignored:
        body += f" Ignored {ignored}."
    body += f" {_ADDED}"
    return _paragraph(f"neighbors : {{{names}}} or dict, default='auto'", body)
