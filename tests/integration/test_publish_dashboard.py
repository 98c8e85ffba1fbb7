"""`make deploy`'s dashboard step (scripts/publish_dashboard.py) against S3, CloudFront and
CloudFormation under moto: what lands in the bucket, with which headers, and what is removed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import publish_dashboard as publisher

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        cloudfront = boto3.client("cloudfront", region_name=REGION)
        s3.create_bucket(Bucket="dashboard-bucket")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "dashboard",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "dashboard",
                            "DomainName": "dashboard-bucket.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "dashboard",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                },
            }
        )["Distribution"]
        yield {"s3": s3, "cloudfront": cloudfront, "distribution_id": distribution["Id"]}


def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>WhaTrack</title>", encoding="utf-8")
    (tmp_path / "assets" / "app.js").write_text("console.log('oi')", encoding="utf-8")
    (tmp_path / "assets" / "app.css").write_text("body{}", encoding="utf-8")
    (tmp_path / "config.json").write_text('{"apiBaseUrl": "http://127.0.0.1:3000"}', encoding="utf-8")  # local
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    return tmp_path


def test_publish_uploads_the_site_writes_the_stacks_config_and_removes_what_is_gone(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    # Given a bucket holding a file of an earlier release, and the stack's outputs
    s3 = aws["s3"]
    s3.put_object(Bucket="dashboard-bucket", Key="assets/old.js", Body=b"old")
    outputs = {
        "DashboardBucketName": "dashboard-bucket",
        "DashboardDistributionId": aws["distribution_id"],
        "DashboardConfig": '{"metaAppId": "1234", "esConfigId": "cfg-9", "graphApiVersion": "v24.0", "apiBaseUrl": ""}',
    }
    # When the dashboard is published
    done = publisher.publish(s3, aws["cloudfront"], publisher.target_from_outputs(outputs), site(tmp_path))
    # Then the bucket holds exactly the site and the stack's config, each with its type and caching
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="dashboard-bucket")["Contents"])
    assert keys == ["assets/app.css", "assets/app.js", "config.json", "index.html"] == done.uploaded
    assert done.removed == ["assets/old.js"]
    heads = {key: s3.head_object(Bucket="dashboard-bucket", Key=key) for key in keys}
    assert heads["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert heads["index.html"]["CacheControl"] == "no-cache"
    assert heads["assets/app.css"]["ContentType"] == "text/css; charset=utf-8"
    assert heads["assets/app.js"]["ContentType"].split(";")[0] in ("text/javascript", "application/javascript")
    assert {head["CacheControl"] for head in heads.values()} == {"no-cache"}  # modules are not versioned
    config = json.loads(s3.get_object(Bucket="dashboard-bucket", Key="config.json")["Body"].read())
    assert config == {"metaAppId": "1234", "esConfigId": "cfg-9", "graphApiVersion": "v24.0", "apiBaseUrl": ""}
    assert heads["config.json"]["CacheControl"] == "no-cache"
    # And CloudFront's copy is invalidated
    invalidations = aws["cloudfront"].list_invalidations(DistributionId=aws["distribution_id"])
    assert [i["Id"] for i in invalidations["InvalidationList"]["Items"]] == [done.invalidation_id]


def test_the_target_comes_from_the_deployed_stacks_outputs(aws: dict[str, Any]) -> None:
    # Given a deployed stack with the dashboard outputs (and one without them)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    outputs = {
        "DashboardBucketName": {"Value": "dashboard-bucket"},
        "DashboardDistributionId": {"Value": aws["distribution_id"]},
        "DashboardConfig": {
            "Value": '{"metaAppId": "", "esConfigId": "", "graphApiVersion": "v24.0", "apiBaseUrl": ""}'
        },
    }
    body = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    cloudformation.create_stack(StackName="with", TemplateBody=json.dumps({**body, "Outputs": outputs}))
    cloudformation.create_stack(StackName="without", TemplateBody=json.dumps(body))
    # Then the outputs name the bucket, the distribution and the config; a stack without them is refused
    target = publisher.target_from_outputs(publisher.stack_outputs(cloudformation, "with"))
    assert (target.bucket, target.distribution_id, target.config["esConfigId"]) == (
        "dashboard-bucket",
        aws["distribution_id"],
        "",
    )
    with pytest.raises(SystemExit, match="DashboardBucketName, DashboardDistributionId, DashboardConfig"):
        publisher.target_from_outputs(publisher.stack_outputs(cloudformation, "without"))


def test_stack_and_region_come_from_samconfig() -> None:
    assert publisher.from_samconfig("dev") == ("whatrack-coexistence-dev", "us-east-1")
    assert publisher.from_samconfig("prod") == ("whatrack-coexistence-prod", "sa-east-1")
    with pytest.raises(SystemExit, match="staging"):
        publisher.from_samconfig("staging")


def test_a_site_without_its_page_is_not_published(aws: dict[str, Any], tmp_path: Path) -> None:
    target = publisher.Target("dashboard-bucket", aws["distribution_id"], {})
    with pytest.raises(SystemExit, match=r"no index\.html"):
        publisher.publish(aws["s3"], aws["cloudfront"], target, tmp_path)
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket="dashboard-bucket")
