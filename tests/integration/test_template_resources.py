"""The emulated resources match template.yaml (one source of truth)."""

from __future__ import annotations

import json

import boto3

from devstack.provision import Provisioned
from devstack.template import resources_of_type


def test_tables_and_indexes_match_the_template(aws: Provisioned) -> None:
    dynamodb = boto3.client("dynamodb")
    tables = resources_of_type(aws.template, "AWS::DynamoDB::Table")
    assert set(aws.tables) == set(tables) and tables
    for logical, res in tables.items():
        props = res["Properties"]
        described = dynamodb.describe_table(TableName=aws.tables[logical])["Table"]
        assert described["KeySchema"] == props["KeySchema"]
        assert {i["IndexName"]: i["KeySchema"] for i in described.get("GlobalSecondaryIndexes", [])} == {
            i["IndexName"]: i["KeySchema"] for i in props.get("GlobalSecondaryIndexes", [])
        }
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_queues_dlqs_and_visibility_match_the_template(aws: Provisioned) -> None:
    sqs = boto3.client("sqs")
    queues = resources_of_type(aws.template, "AWS::SQS::Queue")
    assert set(aws.queues) == set(queues)
    for logical, res in queues.items():
        props = res["Properties"]
        attrs = sqs.get_queue_attributes(QueueUrl=aws.queues[logical], AttributeNames=["All"])["Attributes"]
        if "VisibilityTimeout" in props:
            assert int(attrs["VisibilityTimeout"]) == props["VisibilityTimeout"]
        if "RedrivePolicy" in props:
            redrive = json.loads(attrs["RedrivePolicy"])
            dlq_logical = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert redrive["deadLetterTargetArn"] == aws.queue_arns[dlq_logical]
            assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]


def test_bucket_and_secrets_exist(aws: Provisioned) -> None:
    assert set(aws.buckets) == {"ArchiveBucket", "DashboardBucket", "MediaBucket"}
    bucket = aws.buckets["ArchiveBucket"]
    assert boto3.client("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    secrets = boto3.client("secretsmanager")
    meta = json.loads(secrets.get_secret_value(SecretId=aws.secrets["MetaWebhookSecret"])["SecretString"])
    assert meta == {"appSecret": "local-app-secret", "verifyToken": "local-verify-token"}
    admin = json.loads(secrets.get_secret_value(SecretId=aws.secrets["AdminApiKeySecret"])["SecretString"])
    assert admin == {"adminApiKey": "local-admin-key"}
