"""Template invariants (sam validate --lint and cfn-lint run in `make infra`)."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devstack.http_front import STATIC_HEADERS, dashboard_config
from devstack.template import function_environment, function_timeout, load_template, resources_of_type
from whatrack.config import (
    ConsumerSettings,
    IngestSettings,
    MediaSettings,
    ReconcilerSettings,
    ReplaySettings,
    ReplySettings,
    StatusApiSettings,
    WatchdogSettings,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
QUEUES = resources_of_type(TEMPLATE, "AWS::SQS::Queue")
SETTINGS = {
    "WebhookIngestFunction": IngestSettings,
    "StatusApiFunction": StatusApiSettings,
    "HistoryChunkFunction": ConsumerSettings,
    "StateSyncFunction": ConsumerSettings,
    "EchoFunction": ConsumerSettings,
    "LiveMessageFunction": ConsumerSettings,
    "WatchdogFunction": WatchdogSettings,
    "UnmatchedReplayFunction": ReplaySettings,
    "ReconcilerFunction": ReconcilerSettings,
    "MediaFetchFunction": MediaSettings,
    "ReplySendFunction": ReplySettings,
}


def _sqs_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical, event["Properties"])
        for logical, res in FUNCTIONS.items()
        for event in res["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


def test_every_function_shares_one_runtime_and_the_domain_layer() -> None:
    assert set(FUNCTIONS) == set(SETTINGS)
    function_globals = TEMPLATE["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Layers"] == [{"Ref": "DomainLayer"}]
    assert all("Runtime" not in res["Properties"] for res in FUNCTIONS.values())
    layer = TEMPLATE["Resources"]["DomainLayer"]
    # built by layers/domain/Makefile (bytecode shipped: tests/infra/test_layer_build.py), for the runtime's Python
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "layers" / "domain" / "Makefile").read_text()
    assert "build-DomainLayer:" in makefile
    assert "LAYER_PYTHON ?= python3.12" in makefile and "--python-version 3.12" in makefile


@pytest.mark.parametrize("logical", sorted(SETTINGS))
def test_every_required_setting_is_in_the_function_environment(logical: str) -> None:
    assert SETTINGS[logical].required_env() <= set(function_environment(TEMPLATE, logical))


def test_every_sqs_event_source_reports_batch_item_failures_and_has_a_chosen_batch_size() -> None:
    events = _sqs_events()
    # five routed queues, the replay and media jobs, the replies' outbox, and their eight dead-letter queues
    assert len(events) == 16
    for _, props in events:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 1 <= props["BatchSize"] <= 10


def test_every_routed_queue_has_a_dlq_and_six_times_the_consumer_timeout() -> None:
    dead_letter_queues = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in QUEUES.values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert len(dead_letter_queues) == 8
    for logical, props in _sqs_events():
        name = props["Queue"]["Fn::GetAtt"][0]
        queue = QUEUES[name]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function_timeout(TEMPLATE, logical)
        if name in dead_letter_queues:
            continue
        redrive = queue["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in QUEUES
        assert 1 <= redrive["maxReceiveCount"] <= 10
        assert queue["VisibilityTimeout"] >= 6 * function_timeout(TEMPLATE, logical)


def test_tables_are_on_demand_with_point_in_time_recovery() -> None:
    for res in resources_of_type(TEMPLATE, "AWS::DynamoDB::Table").values():
        props = res["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_archive_bucket_is_private_encrypted_tls_only_and_tiered() -> None:
    props = TEMPLATE["Resources"]["ArchiveBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["LifecycleConfiguration"]["Rules"][0]["Transitions"]
    [statement] = TEMPLATE["Resources"]["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_no_hard_coded_physical_names() -> None:
    names = ("TableName", "QueueName", "BucketName", "FunctionName", "Name")
    for logical, res in TEMPLATE["Resources"].items():
        for key in names:
            value = res.get("Properties", {}).get(key)
            # where a name is required (CloudFront functions, key value stores, SSM parameters): the stack's
            named_for_the_stack = isinstance(value, dict) and "${AWS::StackName}" in str(value.get("Fn::Sub"))
            assert value is None or named_for_the_stack, f"{logical}.{key}"


def test_secrets_are_not_plain_parameters() -> None:
    for name in TEMPLATE.get("Parameters", {}):
        assert "secret" not in name.lower() and "token" not in name.lower()
    assert {"MetaWebhookSecret", "AdminApiKeySecret"} <= set(resources_of_type(TEMPLATE, "AWS::SecretsManager::Secret"))


def test_policies_are_per_function_and_never_wildcard_actions() -> None:
    for logical, res in FUNCTIONS.items():
        for policy in res["Properties"]["Policies"]:
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), logical


def test_outputs_name_every_queue_table_and_the_bucket() -> None:
    outputs = TEMPLATE["Outputs"]
    refs = {o["Value"]["Ref"] for o in outputs.values() if isinstance(o["Value"], dict) and "Ref" in o["Value"]}
    expected = set(QUEUES) | set(resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")) | {"ArchiveBucket", "MediaBucket"}
    assert expected <= refs
    assert "ApiUrl" in outputs and "WebhookUrl" in outputs


# What each function's code path calls (adapters/*.py); a missing action is an AccessDenied in AWS only.
REQUIRED_ACTIONS = {
    "WebhookIngestFunction": {
        "s3:PutObject",
        "sqs:SendMessage",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    },
    "StatusApiFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "secretsmanager:GetSecretValue",
        "secretsmanager:CreateSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:DeleteSecret",
        "secretsmanager:TagResource",
        "sqs:SendMessage",
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
    },
    "WatchdogFunction": {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "secretsmanager:GetSecretValue",
        "sns:Publish",
        "kms:GenerateDataKey",
    },
    # (tests/integration/test_iam.py records what each function really calls in a whole onboarding)
    **{
        name: {"s3:GetObject", "dynamodb:BatchGetItem", "dynamodb:DeleteItem"}
        for name in ("HistoryChunkFunction", "StateSyncFunction", "EchoFunction", "LiveMessageFunction")
    },
    "UnmatchedReplayFunction": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
    },
    "MediaFetchFunction": {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "secretsmanager:GetSecretValue",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
    },
    "ReplySendFunction": {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "sqs:GetQueueUrl",
        "sqs:ChangeMessageVisibility",
    },
    "ReconcilerFunction": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
    },
}


@pytest.mark.parametrize("logical", sorted(REQUIRED_ACTIONS))
def test_each_function_is_allowed_what_its_adapters_call(logical: str) -> None:
    granted: set[str] = set()
    for policy in FUNCTIONS[logical]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            actions = statement["Action"]
            granted |= set(actions if isinstance(actions, list) else [actions])
    assert REQUIRED_ACTIONS[logical] <= granted


ALARMS = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")


@pytest.mark.parametrize("logical", ["WatchdogFunction", "ReconcilerFunction"])
def test_the_watchdog_and_the_reconciler_run_on_a_schedule(logical: str) -> None:
    events = FUNCTIONS[logical]["Properties"]["Events"]
    [schedule] = [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"]
    assert schedule.startswith("rate(")


def test_every_alarm_notifies_the_alerts_topic() -> None:
    assert "AlertsTopic" in resources_of_type(TEMPLATE, "AWS::SNS::Topic") and ALARMS
    for logical, alarm in ALARMS.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}], logical
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", logical


def test_every_dead_letter_queue_has_an_alarm() -> None:
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in ALARMS.values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    dead_letter_queues = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in QUEUES.values()
        if "RedrivePolicy" in q["Properties"]
    }
    assert watched == dead_letter_queues and len(watched) == 8


def test_every_dead_letter_queue_has_a_consumer_that_knows_it_is_one() -> None:
    # (issue 10, defect 3: only the history DLQ had one; the others expired in silence)
    dead_letter_queues = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in QUEUES.values()
        if "RedrivePolicy" in q["Properties"]
    }
    for dlq in dead_letter_queues:
        consumers = [
            name
            for name, function in FUNCTIONS.items()
            for event in function["Properties"].get("Events", {}).values()
            if event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": [dlq, "Arn"]}
        ]
        assert len(consumers) == 1, dlq
        declared = function_environment(TEMPLATE, consumers[0])["DEAD_LETTER_QUEUE_ARNS"]["Fn::Join"][1]
        assert {"Fn::GetAtt": [dlq, "Arn"]} in declared, (dlq, consumers[0])


def test_ingest_errors_consumer_errors_and_stall_alerts_have_alarms() -> None:
    def refs(alarm: dict[str, Any]) -> set[str]:
        found = {
            d["Value"].get("Ref") for d in alarm["Properties"].get("Dimensions", []) if isinstance(d["Value"], dict)
        }
        for metric in alarm["Properties"].get("Metrics", []):
            for d in metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []):
                found.add(d["Value"].get("Ref") if isinstance(d["Value"], dict) else None)
        return found - {None}

    names = {a["Properties"].get("MetricName") for a in ALARMS.values()}
    assert {"Errors", "5xx", "StallAlertsRaised", "ChangesFailed", "ChangesRejectedUnexpectedly"} <= names
    covered = set().union(*(refs(a) for a in ALARMS.values()))
    consumers = {"HistoryChunkFunction", "StateSyncFunction", "EchoFunction", "LiveMessageFunction"}
    assert {"WebhookIngestFunction", "HttpApi", *consumers, "ReconcilerFunction", "UnmatchedReplayFunction"} <= covered


# Where the new code paths write: the action must be granted on that resource, not on another table.
REQUIRED_GRANTS = [
    ("StatusApiFunction", "dynamodb:PutItem", "LogTable"),  # audit entries (sync requests, reconnects)
    ("StatusApiFunction", "dynamodb:Query", "LogTable.Arn}/index"),  # failed changes to retry
    ("StatusApiFunction", "secretsmanager:GetSecretValue", "MetaWebhookSecret"),  # Embedded Signup exchange
    ("StatusApiFunction", "secretsmanager:PutSecretValue", "/connections/*"),  # a reconnection's new token
    ("WatchdogFunction", "dynamodb:Query", "AccountsTable.Arn}/index"),  # the round (sparse gsi2)
    ("WatchdogFunction", "dynamodb:UpdateItem", "AccountsTable"),  # alerts, checks, status
    ("WatchdogFunction", "dynamodb:PutItem", "LogTable"),  # audit entries
    ("WatchdogFunction", "secretsmanager:GetSecretValue", "/connections/*"),  # tokens for the daily check
    ("WatchdogFunction", "sns:Publish", "AlertsTopic"),
    ("WatchdogFunction", "kms:GenerateDataKey", "AlertsKey"),
    ("HistoryChunkFunction", "dynamodb:UpdateItem", "LogTable"),  # a dead letter marks its change failed
    ("WebhookIngestFunction", "dynamodb:PutItem", "LogTable"),  # a change kept for a number (base-table item)
    ("WebhookIngestFunction", "dynamodb:DeleteItem", "LogTable"),  # ... released when ingest routes it itself
    ("StatusApiFunction", "sqs:SendMessage", "ReplayQueue"),  # a new connection's replay job
    ("UnmatchedReplayFunction", "dynamodb:Query", "LogTable"),  # the kept changes (ConsistentRead)
    ("UnmatchedReplayFunction", "sqs:SendMessage", "ReplayQueue"),  # a job's continuation
    ("ReconcilerFunction", "dynamodb:Query", "LogTable.Arn}/index/gsi3"),  # the sparse index, nothing else
    ("ReconcilerFunction", "dynamodb:UpdateItem", "LogTable"),  # claims, routed and failed entries
    ("ReconcilerFunction", "dynamodb:GetItem", "AccountsTable"),  # the phone-number guard
]


def test_the_log_table_has_the_reconcilers_sparse_index() -> None:
    indexes = TEMPLATE["Resources"]["LogTable"]["Properties"]["GlobalSecondaryIndexes"]
    [gsi3] = [i for i in indexes if i["IndexName"] == "gsi3"]
    assert [k["AttributeName"] for k in gsi3["KeySchema"]] == ["gsi3pk", "gsi3sk"]


@pytest.mark.parametrize(("logical", "action", "resource"), REQUIRED_GRANTS)
def test_each_new_path_is_granted_on_its_own_resource(logical: str, action: str, resource: str) -> None:
    granted_on = [
        str(statement["Resource"])
        for policy in FUNCTIONS[logical]["Properties"]["Policies"]
        for statement in policy["Statement"]
        if action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]
    assert any(resource in text for text in granted_on), (logical, action, granted_on)


def test_the_alerts_topic_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    topic = TEMPLATE["Resources"]["AlertsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    statements = TEMPLATE["Resources"]["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    [cloudwatch] = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch["Action"])


def _dashboard_behaviors() -> list[dict[str, Any]]:
    config = TEMPLATE["Resources"]["DashboardDistribution"]["Properties"]["DistributionConfig"]
    return list(config["CacheBehaviors"])


def test_the_dashboard_bucket_is_private_and_read_only_by_its_distribution() -> None:
    props = TEMPLATE["Resources"]["DashboardBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = TEMPLATE["Resources"]["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow, deny = statements
    assert (allow["Effect"], allow["Principal"], allow["Action"]) == (
        "Allow",
        {"Service": "cloudfront.amazonaws.com"},
        "s3:GetObject",
    )
    assert "${DashboardDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    config = TEMPLATE["Resources"]["DashboardDistribution"]["Properties"]["DistributionConfig"]
    [bucket_origin] = [o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert bucket_origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_every_status_api_path_reaches_the_api_through_the_dashboards_origin_uncached() -> None:
    # the dashboard calls its own origin (config.json apiBaseUrl ""): each path it may call must
    # have a behavior to the HTTP API that caches nothing and forwards Authorization
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    behaviors = _dashboard_behaviors()
    for path in paths:
        concrete = path.replace("{", "").replace("}", "")
        matching = [b for b in behaviors if fnmatch.fnmatchcase(concrete, b["PathPattern"])]
        if path.startswith("/admin/"):
            assert not matching, "operators call the admin API at ApiUrl, not through the dashboard"
            continue
        assert matching, path
    for behavior in (b for b in behaviors if b["PathPattern"] != "/media/*"):  # media.url: test_media_cdn.py
        assert behavior["TargetOriginId"] == "api"
        assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
        assert behavior["OriginRequestPolicyId"] == {"Ref": "ApiOriginRequestPolicy"}
        assert behavior["ViewerProtocolPolicy"] == "https-only"
    site = ("/", "/index.html", "/config.json", "/assets/app.js", "/assets/app.css")
    assert not [f for f in site for b in behaviors if fnmatch.fnmatchcase(f, b["PathPattern"])]


def test_the_api_behind_cloudfront_gets_every_header_but_host_and_no_cookie() -> None:
    """D-49: CloudFront passes If-None-Match (the open screens' 304s) only while it forwards no cookie;
    Authorization goes through like every other viewer header, Host never (API Gateway's own)."""
    config = TEMPLATE["Resources"]["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    assert config["HeadersConfig"] == {"HeaderBehavior": "allExcept", "Headers": ["host"]}
    assert config["CookiesConfig"] == {"CookieBehavior": "none"}
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "all"}


def test_the_dashboard_gets_the_same_security_headers_in_aws_as_locally() -> None:
    policy = TEMPLATE["Resources"]["DashboardSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == STATIC_HEADERS["Content-Security-Policy"]
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == STATIC_HEADERS["Referrer-Policy"]
    assert headers["FrameOptions"]["FrameOption"] == STATIC_HEADERS["X-Frame-Options"]
    assert headers["ContentTypeOptions"]["Override"] is True


def test_the_dashboard_config_output_is_the_local_config_shape() -> None:
    template = TEMPLATE["Outputs"]["DashboardConfig"]["Value"]["Fn::Sub"]
    shape = json.loads(
        template.replace("${MetaAppId}", "").replace("${MetaEsConfigId}", "").replace("${GraphApiVersion}", "")
    )
    assert set(shape) == set(dashboard_config({}))
    assert shape["apiBaseUrl"] == "" and "MetaEsConfigId" in TEMPLATE["Parameters"]


def test_every_deploy_profile_lets_make_deploy_go_on_to_publish_the_dashboard() -> None:
    # `make deploy` publishes the dashboard after `sam deploy`: a change to the dashboard alone
    # (an empty change set) must not stop it
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    profiles = [name for name, section in config.items() if isinstance(section, dict) and "deploy" in section]
    assert sorted(profiles) == ["default", "dev", "prod"]
    for name in profiles:
        assert config[name]["deploy"]["parameters"]["fail_on_empty_changeset"] is False, name


def test_ingest_has_reserved_concurrency_that_dashboard_bursts_cannot_take() -> None:
    reserved = FUNCTIONS["WebhookIngestFunction"]["Properties"]["ReservedConcurrentExecutions"]
    condition, value, otherwise = reserved["Fn::If"]
    assert value == {"Ref": "IngestReservedConcurrency"} and otherwise == {"Ref": "AWS::NoValue"}
    assert condition in TEMPLATE["Conditions"]
    assert TEMPLATE["Parameters"]["IngestReservedConcurrency"]["Default"] > 0


def test_the_http_api_is_throttled_and_logged() -> None:
    props = TEMPLATE["Resources"]["HttpApi"]["Properties"]
    settings = props["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] > 0 and settings["ThrottlingRateLimit"] > 0
    assert props["AccessLogSettings"]["DestinationArn"]


def test_every_table_and_queue_is_encrypted_at_rest() -> None:
    for logical, table in resources_of_type(TEMPLATE, "AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, logical
    for logical, queue in QUEUES.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId"), logical
