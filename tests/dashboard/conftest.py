"""Fixtures of the seeded dashboard tests: a collector seeded with real rows
(:mod:`seed`), shared by the tests of a module. The pages themselves are tested against
the live demo (``tests/demo/test_live.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.seed import Seeded, seeded_collector


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded collector for the module (seeding takes a few seconds)."""
    with seeded_collector(tmp_path_factory.mktemp("dashboard")) as found:
        yield found
