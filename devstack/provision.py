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
}

# Secret JSON keys filled from the environment (CONTRACT §2 local defaults).
SECRET_VALUES = {
    "appSecret": ("META_APP_SECRET", "local-app-secret"),
    "verifyToken": ("META_VERIFY_TOKEN", "local-verify-token"),
    "adminApiKey": ("ADMIN_API_KEY", "local-admin-key"),
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
    environment: dict[str, str] = field(default_factory=dict)  # union of function env vars

    def queue_url_for_arn(self, arn: str) -> str:
        for logical, queue_arn in self.queue_arns.items():
            if queue_arn == arn:
                return self.queues[logical]
        raise KeyError(arn)


def _clients(endpoint: str) -> dict[str, Any]:
    kwargs = {"endpoint_url": endpoint, "region_name": REGION,
              "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return {name: boto3.client(name, **kwargs) for name in ("dynamodb", "sqs", "s3", "secretsmanager")}  # type: ignore[call-overload]


def _table_spec(props: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return spec


def provision(endpoint: str, *, stack_name: str = "whatrack-local",
              visibility_timeout_override: int | None = None,
              environ: dict[str, str] | None = None) -> Provisioned:
    env = dict(os.environ if environ is None else environ)
    template = load_template()
    clients = _clients(endpoint)
    parameters = {
        name: env.get(PARAMETER_ENV.get(name, ""), str(spec.get("Default", "")))
        for name, spec in template.get("Parameters", {}).items()
    }
    resolver = Resolver(
        refs=dict(parameters),
        pseudo={"AWS::StackName": stack_name, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID,
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
    )
    out = Provisioned(template=template, resolver=resolver)

    for logical, res in resources_of_type(template, "AWS::DynamoDB::Table").items():
        name = f"{stack_name}-{logical}"
        clients["dynamodb"].create_table(TableName=name, **_table_spec(res["Properties"]))
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        resolver.refs[logical] = name
        resolver.attrs[(logical, "Arn")] = arn
        out.tables[logical] = name

    for logical, res in resources_of_type(template, "AWS::S3::Bucket").items():
        name = f"{stack_name}-{logical}".lower()
        clients["s3"].create_bucket(Bucket=name)
        props = res["Properties"]
        if props.get("VersioningConfiguration"):
            clients["s3"].put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        resolver.refs[logical] = name
        resolver.attrs[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        out.buckets[logical] = name

    queues = resources_of_type(template, "AWS::SQS::Queue")
    # dead-letter queues first: the others' redrive policies point at them
    ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {}))
    for logical in ordered:
        props = queues[logical].get("Properties", {})
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(visibility_timeout_override or props["VisibilityTimeout"])
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
        url = clients["sqs"].create_queue(QueueName=f"{stack_name}-{logical}", Attributes=attributes)["QueueUrl"]
        arn = clients["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resolver.refs[logical] = url
        resolver.attrs[(logical, "Arn")] = arn
        resolver.attrs[(logical, "QueueUrl")] = url
        resolver.attrs[(logical, "QueueName")] = f"{stack_name}-{logical}"
        out.queues[logical] = url
        out.queue_arns[logical] = arn

    for logical, res in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        generate = res["Properties"].get("GenerateSecretString", {})
        value = json.loads(generate.get("SecretStringTemplate", "{}"))
        keys = set(value) | ({generate["GenerateStringKey"]} if "GenerateStringKey" in generate else set())
        for key in keys:
            env_name, default = SECRET_VALUES[key]
            value[key] = env.get(env_name, default)
        arn = clients["secretsmanager"].create_secret(Name=f"{stack_name}/{logical}", SecretString=json.dumps(value))["ARN"]
        resolver.refs[logical] = arn
        out.secrets[logical] = arn

    for logical in resources_of_type(template, "AWS::Serverless::Function"):
        resolver.refs[logical] = f"{stack_name}-{logical}"
        for name, raw in function_environment(template, logical).items():
            value = str(resolver.resolve(raw))
            if out.environment.get(name, value) != value:
                raise ValueError(f"environment variable {name} differs between functions; the local stack "
                                 "runs all handlers in one process and needs one value per name")
            out.environment[name] = value
    return out
