import pytest


@pytest.fixture
def app(launch_app):
    """Page tests here need Redis and the local engine: the app is launch_app."""
    return launch_app
