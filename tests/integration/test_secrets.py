"""Secrets Manager adapters (Powertools' SecretsProvider) under moto: fields, cache, failures."""

from __future__ import annotations

import json

import boto3
import pytest

from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.webhook_ingest import app as ingest_app
from tests.builders.events import signed_post
from tests.builders.samples import SAMPLES
from whatrack.adapters.secrets import (
    SecretsManagerAdminCredentials,
    SecretsManagerTokenVault,
    SecretsManagerWebhookSecrets,
)
from whatrack.domain.errors import ConfigurationError, TransientError


def test_webhook_secrets_are_read_once_and_cached(aws: Provisioned) -> None:
    # Given the provisioned webhook secret, read once
    secrets = SecretsManagerWebhookSecrets(aws.secrets["MetaWebhookSecret"])
    assert (secrets.app_secret(), secrets.verify_token()) == ("local-app-secret", "local-verify-token")
    # When it is rotated in Secrets Manager
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.secrets["MetaWebhookSecret"], SecretString=json.dumps({"appSecret": "new", "verifyToken": "t"})
    )
    # Then this environment keeps the cached value (until max_age), and a new reader sees the new one
    assert secrets.app_secret() == "local-app-secret"
    assert SecretsManagerWebhookSecrets(aws.secrets["MetaWebhookSecret"]).app_secret() == "new"


@pytest.mark.parametrize("content", ['{"verifyToken": "t"}', '{"appSecret": ""}', "not json", '["appSecret"]'])
def test_an_unset_or_malformed_secret_is_a_configuration_error(aws: Provisioned, content: str) -> None:
    # Given a webhook secret the operator has not filled in correctly
    boto3.client("secretsmanager").put_secret_value(SecretId=aws.secrets["MetaWebhookSecret"], SecretString=content)
    # Then reading it names the problem, and it is not mistaken for a transient failure
    with pytest.raises(ConfigurationError):
        SecretsManagerWebhookSecrets(aws.secrets["MetaWebhookSecret"]).app_secret()


def test_until_the_app_secret_is_set_the_webhook_answers_500_and_keeps_nothing(aws: Provisioned) -> None:
    # Given a deployment whose app secret was never set
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.secrets["MetaWebhookSecret"], SecretString=json.dumps({"verifyToken": "t"})
    )
    # When Meta delivers a signed body
    result = ingest_app.lambda_handler(signed_post(SAMPLES["messages_text"]), LambdaContext("ingest", 1024, 20))
    # Then it gets a 5xx (Meta retries until the operator fixes it) and nothing was archived
    assert result["statusCode"] == 500 and json.loads(result["body"])["error"]["code"] == "misconfigured"
    bucket = aws.buckets["ArchiveBucket"]
    assert boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_missing_secret_is_transient(aws: Provisioned) -> None:
    # Given an admin secret id that Secrets Manager does not know (e.g. not replicated yet)
    credentials = SecretsManagerAdminCredentials("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone")
    # Then the read fails as retryable, with AWS's error code in the message
    with pytest.raises(TransientError, match="ResourceNotFoundException"):
        credentials.admin_api_key()
    assert SecretsManagerAdminCredentials(aws.secrets["AdminApiKeySecret"]).admin_api_key() == "local-admin-key"


def test_token_vault_round_trip(aws: Provisioned) -> None:
    # Given a connection's token stored in its own secret
    vault = SecretsManagerTokenVault("whatrack-test/connections/")
    secret_id = vault.store("01CONN", "EAAG-token")
    # Then it reads back, and once deleted (twice: idempotent) it is gone
    assert vault.read(secret_id) == "EAAG-token"
    vault.delete(secret_id)
    vault.delete(secret_id)
    with pytest.raises(TransientError):
        SecretsManagerTokenVault("whatrack-test/connections/").read(secret_id)
