"""Create the template's tables, queues, bucket and secrets in the AWS emulation.

One source of truth: names, keys, indexes, redrive policies and visibility timeouts come from
``template.yaml``; only physical names are ours (``<stack>-<LogicalId>``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.template import Resolver, function_environment, load_template, resources_of_type

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

# Template parameters that the contract lets the environment override (CONTRACT §2).
PARAMETER_ENV = {
    "GraphApiBaseUrl": "GRAPH_API_BASE_URL",
    "GraphApiVersion": "GRAPH_API_VERSION",
    "HistoryStallAfterSeconds": "HISTORY_STALL_AFTER_SECONDS",
    "ReconcileAfterSeconds": "RECONCILE_AFTER_SECONDS",
    "MetaAppId": "META_APP_ID",
    "MediaDownloadHosts": "MEDIA_DOWNLOAD_HOSTS",
    "MediaMaxBytes": "MEDIA_MAX_BYTES",
    "MediaUrlTtlSeconds": "MEDIA_URL_TTL_SECONDS",
    "MediaUrlBase": "MEDIA_URL_BASE",
    # local only: how much the functions log (``make demo`` writes INFO to its log file)
    "LogLevel": "POWERTOOLS_LOG_LEVEL",
}
# Local defaults that differ from the template's (CONTRACT §2).
LOCAL_PARAMETER_DEFAULTS = {"MetaAppId": "local-app-id"}

# Secret JSON keys filled from the environment (CONTRACT §2 local defaults).
SECRET_VALUES = {
    "appSecret": ("META_APP_SECRET", "local-app-secret"),
    "verifyToken": ("META_VERIFY_TOKEN", "local-verify-token"),
    "adminApiKey": ("ADMIN_API_KEY", "local-admin-key"),
    "key": ("MEDIA_URL_KEY", "local-media-url-key"),
}


@dataclass
class Provisioned:
    template: dict[str, Any]
    resolver: Resolver
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue url
    queue_arns: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    environment: dict[str, str] = field(default_factory=dict)  # union of function env vars

    def queue_url_for_arn(self, arn: str) -> str:
        for logical, queue_arn in self.queue_arns.items():
            if queue_arn == arn:
                return self.queues[logical]
        raise KeyError(arn)


SERVICES = ("dynamodb", "sqs", "s3", "secretsmanager", "sns")


def _clients(endpoint: str | None) -> dict[str, Any]:
    if endpoint is None:  # inside moto's mock_aws: default endpoints are intercepted
        return {
            name: boto3.client(
                name,  # type: ignore[call-overload]
                region_name=REGION,
            )
            for name in SERVICES
        }
    kwargs = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return {
        name: boto3.client(
            name,  # type: ignore[call-overload]
            **kwargs,
        )
        for name in SERVICES
    }


def _table_spec(props: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return spec


def provision(
    endpoint: str | None,
    *,
    stack_name: str = "whatrack-local",
    visibility_timeout_override: int | None = None,
    environ: dict[str, str] | None = None,
) -> Provisioned:
    """Create every table, bucket, queue and secret of the template; ``endpoint=None`` under moto's mock."""
    env = dict(os.environ if environ is None else environ)
    template = load_template()
    clients = _clients(endpoint)
    parameters = {
        name: env.get(PARAMETER_ENV.get(name, ""), LOCAL_PARAMETER_DEFAULTS.get(name, str(spec.get("Default", ""))))
        for name, spec in template.get("Parameters", {}).items()
    }
    resolver = Resolver(
        refs=dict(parameters),
        pseudo={
            "AWS::StackName": stack_name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
    )
    out = Provisioned(template=template, resolver=resolver)
    _tables(out, clients["dynamodb"], stack_name)
    _buckets(out, clients["s3"], stack_name)
    _queues(out, clients["sqs"], stack_name, visibility_timeout_override)
    _secrets(out, clients["secretsmanager"], stack_name, env)
    _topics(out, clients["sns"], stack_name)
    _environment(out, stack_name)
    return out


def _tables(out: Provisioned, dynamodb: Any, stack_name: str) -> None:
    for logical, res in resources_of_type(out.template, "AWS::DynamoDB::Table").items():
        name = f"{stack_name}-{logical}"
        dynamodb.create_table(TableName=name, **_table_spec(res["Properties"]))
        out.resolver.refs[logical] = name
        out.resolver.attrs[(logical, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        out.tables[logical] = name


def _buckets(out: Provisioned, s3: Any, stack_name: str) -> None:
    for logical, res in resources_of_type(out.template, "AWS::S3::Bucket").items():
        name = f"{stack_name}-{logical}".lower()
        s3.create_bucket(Bucket=name)
        versioning = res["Properties"].get("VersioningConfiguration")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=versioning)
        out.resolver.refs[logical] = name
        out.resolver.attrs[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        out.buckets[logical] = name


def _queues(out: Provisioned, sqs: Any, stack_name: str, visibility_timeout_override: int | None) -> None:
    queues = resources_of_type(out.template, "AWS::SQS::Queue")
    # dead-letter queues first: the others' redrive policies point at them
    for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        props = queues[logical].get("Properties", {})
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(visibility_timeout_override or props["VisibilityTimeout"])
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(out.resolver.resolve(props["RedrivePolicy"]))
        name = f"{stack_name}-{logical}"
        if props.get("FifoQueue"):  # ordered per message group; SQS wants the name to say so
            attributes["FifoQueue"] = "true"
            name += ".fifo"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        out.resolver.refs[logical] = url
        out.resolver.attrs[(logical, "Arn")] = arn
        out.resolver.attrs[(logical, "QueueUrl")] = url
        out.resolver.attrs[(logical, "QueueName")] = name
        out.queues[logical] = url
        out.queue_arns[logical] = arn


def _secrets(out: Provisioned, secretsmanager: Any, stack_name: str, env: dict[str, str]) -> None:
    for logical, res in resources_of_type(out.template, "AWS::SecretsManager::Secret").items():
        generate = res["Properties"].get("GenerateSecretString", {})
        value = json.loads(generate.get("SecretStringTemplate", "{}"))
        keys = set(value) | ({generate["GenerateStringKey"]} if "GenerateStringKey" in generate else set())
        for key in keys:
            env_name, default = SECRET_VALUES[key]
            value[key] = env.get(env_name, default)
        arn = secretsmanager.create_secret(Name=f"{stack_name}/{logical}", SecretString=json.dumps(value))["ARN"]
        out.resolver.refs[logical] = arn
        out.secrets[logical] = arn


def _topics(out: Provisioned, sns: Any, stack_name: str) -> None:
    for logical in resources_of_type(out.template, "AWS::SNS::Topic"):
        arn = sns.create_topic(Name=f"{stack_name}-{logical}")["TopicArn"]
        out.resolver.refs[logical] = arn
        out.topics[logical] = arn


def _environment(out: Provisioned, stack_name: str) -> None:
    for logical in resources_of_type(out.template, "AWS::Serverless::Function"):
        out.resolver.refs[logical] = f"{stack_name}-{logical}"
        for name, raw in function_environment(out.template, logical).items():
            value = str(out.resolver.resolve(raw))
            if out.environment.get(name, value) != value:
                raise ValueError(
                    f"environment variable {name} differs between functions; the local stack "
                    "runs all handlers in one process and needs one value per name"
                )
            out.environment[name] = value
