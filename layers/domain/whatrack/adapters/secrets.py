"""Secrets Manager adapters: webhook secrets, admin key, per-connection access tokens.

Reads go through Powertools' ``SecretsProvider`` (cached for ``CACHE_SECONDS`` so a rotation is
picked up, JSON-decoded where the secret holds several values); the provider and its client are
built on first use, after moto or the local stack is up.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from whatrack.adapters.aws import AWS_ERRORS, client, error_code, transient
from whatrack.domain.errors import ConfigurationError, TransientError

CACHE_SECONDS = 300
TOKEN_CACHE_SECONDS = 0
"""Tokens are read rarely (a request, a refresh, the daily check) and change on reconnection: no cache."""


class _SecretReader:
    """Cached reads of secrets through one lazily built ``SecretsProvider``."""

    def __init__(self, sm: Any | None = None) -> None:
        self._sm = sm

    @functools.cached_property
    def _provider(self) -> SecretsProvider:
        return SecretsProvider(boto3_client=self._sm or client("secretsmanager"))

    def text(self, secret_id: str, *, max_age: int) -> str:
        try:
            return str(self._provider.get(secret_id, max_age=max_age))
        except GetParameterError as exc:
            raise TransientError(f"secret read failed ({_cause(exc)})") from exc

    def json_field(self, secret_id: str, name: str) -> str:
        try:
            data = self._provider.get(secret_id, max_age=CACHE_SECONDS, transform="json")
        except TransformParameterError as exc:
            raise ConfigurationError(f"secret {secret_id} is not JSON") from exc
        except GetParameterError as exc:
            raise TransientError(f"secret read failed ({_cause(exc)})") from exc
        value = data.get(name) if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"secret {secret_id} has no {name!r}; set it (see README, Deployment)")
        return value


def _cause(exc: BaseException) -> str:
    """The AWS error code behind Powertools' ``GetParameterError`` (it wraps without ``from``)."""
    inner = exc.__cause__ or exc.__context__
    return (error_code(inner) if inner is not None else None) or type(inner or exc).__name__


class SecretsManagerWebhookSecrets:
    """``{"appSecret": ..., "verifyToken": ...}`` in one secret."""

    def __init__(self, secret_id: str, sm: Any | None = None) -> None:
        self._secret_id = secret_id
        self._reader = _SecretReader(sm)

    def app_secret(self) -> str:
        return self._reader.json_field(self._secret_id, "appSecret")

    def verify_token(self) -> str:
        return self._reader.json_field(self._secret_id, "verifyToken")


class SecretsManagerAdminCredentials:
    """``{"adminApiKey": ...}``."""

    def __init__(self, secret_id: str, sm: Any | None = None) -> None:
        self._secret_id = secret_id
        self._reader = _SecretReader(sm)

    def admin_api_key(self) -> str:
        return self._reader.json_field(self._secret_id, "adminApiKey")


class SecretsManagerMediaUrlKey:
    """``{"key": ...}``: what signs ``media.url`` (CONTRACT §7 Media)."""

    def __init__(self, secret_id: str, sm: Any | None = None) -> None:
        self._secret_id = secret_id
        self._reader = _SecretReader(sm)

    def key(self) -> str:
        return self._reader.json_field(self._secret_id, "key")


class SecretsManagerTokenVault:
    """One secret per connection, named ``<prefix><connection id>``."""

    def __init__(self, prefix: str, sm: Any | None = None) -> None:
        self._prefix = prefix
        self._sm = sm
        self._reader = _SecretReader(sm)

    @property
    def sm(self) -> Any:
        return self._sm or client("secretsmanager")

    def store(self, connection_id: str, token: str) -> str:
        """Create the connection's secret, or give it a new value (a number connected again)."""
        name = f"{self._prefix}{connection_id}"
        try:
            response = self.sm.create_secret(
                Name=name,
                SecretString=token,
                Description="WhatsApp business access token of one WhaTrack connection",
                Tags=[{"Key": "whatrack:connection", "Value": connection_id}],
            )
        except AWS_ERRORS as exc:
            if error_code(exc) != "ResourceExistsException":
                raise transient("token store", exc) from exc
            try:
                response = self.sm.put_secret_value(SecretId=name, SecretString=token)
            except AWS_ERRORS as again:
                raise transient("token store", again) from again
        return str(response["ARN"])

    def delete(self, secret_id: str) -> None:
        try:
            self.sm.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise transient("token delete", exc) from exc

    def read(self, secret_id: str) -> str:
        return self._reader.text(secret_id, max_age=TOKEN_CACHE_SECONDS)
