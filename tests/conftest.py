"""Shared fixtures: the course notes' 2-2-1 givens, an optional torch (float64) and the
fillers a test's rendering makes (counted)."""

import pytest


def pytest_configure(config):
    # Hypothesis imports libcst to write a patch for a failing example; libcst 1.0 uses the
    # deprecated mypy_extensions.TypedDict, which filterwarnings=error would turn into an
    # INTERNALERROR that hides the real failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


@pytest.fixture(scope="module")
def torch():
    """torch with float64 as its default dtype (restored after the module), or a skip."""
    module = pytest.importorskip("torch")
    previous = module.get_default_dtype()
    module.set_default_dtype(module.float64)
    yield module
    module.set_default_dtype(previous)


@pytest.fixture
def notes_givens():
    """Section 10 of the course notes: x = [1, 0], y = 1, the nine parameters, eta = 0.1."""
    return {
        "x1": 1, "x2": 0, "y": 1,
        "w11": 0.2, "w21": 0.4, "b1": 0.1,
        "w12": 0.3, "w22": 0.1, "b2": 0.2,
        "w13": 0.7, "w23": 0.5, "b3": 0.3,
        "eta": 0.1,
    }


@pytest.fixture
def fillers(monkeypatch):
    """Every :class:`~chainrule.render.fill.Filler` made while the test runs, in order."""
    from chainrule.render import fill

    made: list = []

    class Counted(fill.Filler):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(fill, "Filler", Counted)
    return made
