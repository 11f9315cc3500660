"""The core's app fixture (the real app on the bundled demo data) for the asking tests."""

from tests.core.conftest import app  # noqa: F401  (re-exported fixture)
