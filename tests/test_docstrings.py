"""The estimators' shared docstring paragraphs: written once (equipoise.utils._docstring), present
in every estimator that takes the parameter, with no placeholder left unfilled."""

import inspect
import re

import pytest

import equipoise.combine
import equipoise.neighbors
import equipoise.over_sampling
import equipoise.under_sampling
from equipoise.utils import _docstring

ESTIMATORS = [
    getattr(module, name)
    for module in (
        equipoise.over_sampling,
        equipoise.under_sampling,
        equipoise.combine,
        equipoise.neighbors,
    )
    for name in module.__all__
]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_placeholder_is_left(cls):
    doc = cls.__doc__ or ""
    assert not re.search(r"^\s*\{[a-z_]+\}\s*$", doc, re.MULTILINE), doc
    assert "default={" not in doc


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented_once(cls):
    doc = cls.__doc__ or ""
    for name in inspect.signature(cls).parameters:
        entries = re.findall(rf"^    {name} : ", doc, re.MULTILINE)
        assert len(entries) == 1, f"{cls.__name__}: {name} documented {len(entries)} times"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_shared_paragraphs_are_the_shared_ones(cls):
    doc = _flat(cls.__doc__ or "")
    params = inspect.signature(cls).parameters
    if "n_jobs" in params:
        assert _flat(_docstring.N_JOBS) in doc or _flat(_docstring.N_JOBS_ADDED) in doc
    if "neighbors" in params and cls.__name__ != "SMOTEN":  # SMOTEN's is exact-only
        assert f"a dict such as ``{_docstring.HNSW_EXAMPLE}`` sets HNSW's options" in doc
    if cls.__module__.startswith(("equipoise.over_sampling", "equipoise.under_sampling")):
        assert _flat(_docstring.FEATURES_IN) in doc


def test_substitution_indents_and_checks():
    @_docstring.Substitution(entry="a : int\n    The a.", value="3")
    class Documented:
        """Title.

        Parameters
        ----------
        {entry}
        b : int, default={value}
            The {b} braces of other text are kept.
        """

    assert Documented.__doc__ is not None
    assert "        a : int\n            The a.\n" in Documented.__doc__
    assert "b : int, default=3\n" in Documented.__doc__
    assert "The {b} braces" in Documented.__doc__

    with pytest.raises(ValueError, match="has no {missing}"):
        _docstring.Substitution(missing="x")(Documented)

    class Undocumented:
        pass

    assert _docstring.Substitution(entry="x")(Undocumented) is Undocumented  # python -OO
