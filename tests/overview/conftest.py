import pytest


@pytest.fixture
def app(launch_app):
    """The overview's tests launch for real: Redis, the local engine, a real RQ worker."""
    return launch_app
