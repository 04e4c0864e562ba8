import pytest

from tests.fixtures.launching import import_tutorial


@pytest.fixture
def app(launch_app):
    """Chaining needs Redis, the local engine and a launch directory: the app is launch_app."""
    return launch_app


@pytest.fixture
def tutorial(launch_app):
    return import_tutorial()
