import pytest

import callao


@pytest.fixture(scope="session")
def short_run():
    """Five weeks of the bundled Callao scenario (shared by tests that only read it)."""
    return callao.simulate("callao", seed=7, years=35 / 365)
