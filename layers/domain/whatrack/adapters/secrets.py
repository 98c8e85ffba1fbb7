"""Secrets Manager adapters: webhook secrets, admin key, per-connection access tokens."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from whatrack.adapters.aws import AWS_ERRORS, client, error_code, transient
from whatrack.errors import ConfigurationError

CACHE_SECONDS = 300.0


class _CachedSecret:
    """Reads a secret at most once per ``CACHE_SECONDS`` (so rotation is picked up)."""

    def __init__(self, secret_id: str, sm: Any | None = None, ttl: float = CACHE_SECONDS) -> None:
        self._secret_id = secret_id
        self._sm = sm
        self._ttl = ttl
        self._value: str | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            if self._value is None or time.monotonic() - self._read_at > self._ttl:
                try:
                    response = (self._sm or client("secretsmanager")).get_secret_value(SecretId=self._secret_id)
                except AWS_ERRORS as exc:
                    raise transient("secret read", exc) from exc
                self._value = str(response["SecretString"])
                self._read_at = time.monotonic()
            return self._value

    def json_field(self, name: str) -> str:
        try:
            data = json.loads(self.value())
        except ValueError as exc:
            raise ConfigurationError(f"secret {self._secret_id} is not JSON") from exc
        value = data.get(name) if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"secret {self._secret_id} has no {name!r}; set it (see README, Deployment)")
        return value


class SecretsManagerWebhookSecrets:
    """``{"appSecret": ..., "verifyToken": ...}`` in one secret."""

    def __init__(self, secret_id: str, sm: Any | None = None) -> None:
        self._secret = _CachedSecret(secret_id, sm)

    def app_secret(self) -> str:
        return self._secret.json_field("appSecret")

    def verify_token(self) -> str:
        return self._secret.json_field("verifyToken")


class SecretsManagerAdminCredentials:
    """``{"adminApiKey": ...}``."""

    def __init__(self, secret_id: str, sm: Any | None = None) -> None:
        self._secret = _CachedSecret(secret_id, sm)

    def admin_api_key(self) -> str:
        return self._secret.json_field("adminApiKey")


class SecretsManagerTokenVault:
    """One secret per connection, named ``<prefix><connection id>``."""

    def __init__(self, prefix: str, sm: Any | None = None) -> None:
        self._prefix = prefix
        self._sm = sm

    @property
    def sm(self) -> Any:
        return self._sm or client("secretsmanager")

    def store(self, connection_id: str, token: str) -> str:
        try:
            response = self.sm.create_secret(
                Name=f"{self._prefix}{connection_id}",
                SecretString=token,
                Description="WhatsApp business access token of one WhaTrack connection",
                Tags=[{"Key": "whatrack:connection", "Value": connection_id}],
            )
        except AWS_ERRORS as exc:
            raise transient("token store", exc) from exc
        return str(response["ARN"])

    def delete(self, secret_id: str) -> None:
        try:
            self.sm.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise transient("token delete", exc) from exc

    def read(self, secret_id: str) -> str:
        try:
            return str(self.sm.get_secret_value(SecretId=secret_id)["SecretString"])
        except AWS_ERRORS as exc:
            raise transient("token read", exc) from exc
