import pytest

from harness.env.embedded import EmbeddedBackend


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """A started embedded backend (real Redis + moto server) shared by the whole session."""
    with EmbeddedBackend(tmp_path_factory.mktemp("embedded")) as started:
        yield started
