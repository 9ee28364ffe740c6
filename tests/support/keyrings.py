"""A keychain in memory for tests: keyring's backend API, nothing written anywhere."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Passwords in a dict, as a real backend would keep them in the OS keychain."""

    priority = 1

    def __init__(self, entries: dict[tuple[str, str], str]):
        # A required argument keeps keyring's own detection from ever choosing this backend
        # (it tries only the classes it can make without arguments): tests set it explicitly.
        super().__init__()
        self.entries = entries

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no {service}:{username}")


@pytest.fixture
def memory_keyring():
    """keyring's calls go to a fresh MemoryKeyring for the test."""
    before = keyring.get_keyring()
    ring = MemoryKeyring({})
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring():
    """keyring as on a system without any backend (no Secret Service, no Keychain)."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)
