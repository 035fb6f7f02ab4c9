"""Root conftest: the shared fixtures of every service's tests."""

pytest_plugins = ["safeguarding_kit.testing"]
