import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """These tests sign in dozens of times; the production hasher's cost is not what they measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    # The token endpoint's rate limit counts in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()
