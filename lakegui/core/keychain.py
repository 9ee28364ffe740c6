"""Access keys kept in the operating system's keychain (through `keyring`), never in settings.json.

For S3-compatible endpoints without an AWS profile (MinIO, SeaweedFS, R2) a connection profile
names a keychain entry, "lakegui:NAME": service "lakegui", account NAME. The entry's password is
a small JSON object holding the access key and the secret, so one entry is one credential on
every backend (macOS Keychain, Windows Credential Locker, the Secret Service).
"""

from __future__ import annotations

import json
import logging

from .connection import StaticCredentials

log = logging.getLogger(__name__)
SERVICE = "lakegui"
NO_BACKEND = ("No keychain is available on this system (keyring found no backend, e.g. no Secret Service "
              "running). Use an AWS profile instead: put the keys in ~/.aws/credentials under a [name] "
              "section and choose that profile.")


class KeychainError(Exception):
    """The keychain could not give or keep an entry; the message says what to do."""


def ref_for(profile_name: str) -> str:
    """The keychain reference a profile called `profile_name` gets: "lakegui:NAME"."""
    return f"{SERVICE}:{profile_name}"


def _split(ref: str) -> tuple[str, str]:
    service, sep, account = ref.partition(":")
    if not sep or not service or not account:
        raise KeychainError(f"'{ref}' is not a keychain reference (it should look like {SERVICE}:NAME).")
    return service, account


def backend_problem() -> str:
    """Why the keychain cannot be used here, or '' when a real backend is available."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return NO_BACKEND
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001  a broken keyring configuration (any error) counts as none
        return NO_BACKEND
    # fail.Keyring raises on every call; null.Keyring (PYTHON_KEYRING_BACKEND) silently keeps nothing.
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return NO_BACKEND
    return ""


def store(ref: str, access_key: str, secret_key: str) -> None:
    """Keep an access key and its secret under `ref`, replacing what was there."""
    import keyring
    from keyring.errors import KeyringError

    if not access_key or not secret_key:
        raise KeychainError("Both the access key and the secret key are needed.")
    service, account = _split(ref)
    try:
        keyring.set_password(service, account, json.dumps({"access_key": access_key, "secret_key": secret_key}))
    except KeyringError as exc:
        raise KeychainError(_explain(exc, "store the keys")) from None
    log.info("keys stored in keychain entry %s", ref)


def load(ref: str) -> StaticCredentials:
    """The credentials stored under `ref`; KeychainError if there are none or the keychain fails."""
    import keyring
    from keyring.errors import KeyringError

    service, account = _split(ref)
    try:
        raw = keyring.get_password(service, account)
    except KeyringError as exc:
        raise KeychainError(_explain(exc, f"read keychain entry {ref}")) from None
    if raw is None:
        raise KeychainError(f"The keychain has no entry {ref}: enter the keys again in File > Connect.")
    try:
        data = json.loads(raw)
        return StaticCredentials(str(data["access_key"]), str(data["secret_key"]))
    except (ValueError, TypeError, KeyError):
        # Never echo the entry: it holds the secret.
        raise KeychainError(f"Keychain entry {ref} is not one lakegui wrote: enter the keys again.") from None


def delete(ref: str) -> None:
    """Remove the entry under `ref`; an entry that is already gone is fine."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    service, account = _split(ref)
    try:
        keyring.delete_password(service, account)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        raise KeychainError(_explain(exc, f"delete keychain entry {ref}")) from None
    log.info("keychain entry %s deleted", ref)


def _explain(exc: Exception, doing: str) -> str:
    from keyring.errors import KeyringLocked, NoKeyringError

    if isinstance(exc, NoKeyringError):
        return NO_BACKEND
    if isinstance(exc, KeyringLocked):
        return f"The keychain is locked: unlock it, then try again to {doing}."
    return f"The keychain could not {doing}: {exc}"
