"""``media.url`` in AWS (D-44): the dashboard's distribution serves ``/media/*`` from the media bucket
through a viewer-request function that checks the URL, with the local front's headers, cached by the
object key alone; the status API learns the base without a dependency cycle."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from devstack.media_front import HEADERS as LOCAL_MEDIA_HEADERS
from devstack.media_front import PREFIX
from devstack.template import function_environment, load_template, resources_of_type
from whatrack.domain.media import signed_media_url

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
DISTRIBUTION = RESOURCES["DashboardDistribution"]["Properties"]["DistributionConfig"]
PARAMETER_NAME = {"Fn::Sub": "/${AWS::StackName}/media-url-base"}


def _media_behavior() -> dict[str, Any]:
    [behavior] = [b for b in DISTRIBUTION["CacheBehaviors"] if b["PathPattern"] == "/media/*"]
    return dict(behavior)


def _origin(origin_id: str) -> dict[str, Any]:
    [origin] = [o for o in DISTRIBUTION["Origins"] if o["Id"] == origin_id]
    return dict(origin)


def _resource(reference: dict[str, Any], expected_type: str) -> dict[str, Any]:
    """The resource a ``Ref`` or ``GetAtt`` names, checked to be of ``expected_type``."""
    logical = reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]
    resource = RESOURCES[logical]
    assert resource["Type"] == expected_type, logical
    return dict(resource["Properties"])


def test_media_paths_go_to_the_media_bucket_through_its_own_origin_access_control() -> None:
    behavior = _media_behavior()
    origin = _origin(behavior["TargetOriginId"])
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    control = _resource(origin["OriginAccessControlId"], "AWS::CloudFront::OriginAccessControl")
    config = control["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    assert behavior["AllowedMethods"] == ["GET", "HEAD"] and behavior["ViewerProtocolPolicy"] == "https-only"
    # the only way to the media bucket
    assert [b["PathPattern"] for b in DISTRIBUTION["CacheBehaviors"] if b["TargetOriginId"] == origin["Id"]] == [
        "/media/*"
    ]
    assert DISTRIBUTION["DefaultCacheBehavior"]["TargetOriginId"] != origin["Id"]


def test_every_media_request_meets_the_function_first() -> None:
    behavior = _media_behavior()
    [association] = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"  # before the cache: every request, cached or not
    assert association["FunctionARN"] == {"Fn::GetAtt": ["MediaUrlFunction", "FunctionARN"]}
    assert "LambdaFunctionAssociations" not in behavior
    function = _resource(association["FunctionARN"], "AWS::CloudFront::Function")
    assert function["AutoPublish"] is True  # the distribution runs the LIVE stage
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    [store] = function["FunctionConfig"]["KeyValueStoreAssociations"]
    assert store == {"KeyValueStoreARN": {"Fn::GetAtt": ["MediaUrlKeys", "Arn"]}}
    assert RESOURCES["MediaUrlKeys"]["Type"] == "AWS::CloudFront::KeyValueStore"
    # the publish script finds the store and the secret it copies from in the outputs
    outputs = TEMPLATE["Outputs"]
    assert outputs["MediaUrlKeyValueStoreArn"]["Value"] == {"Fn::GetAtt": ["MediaUrlKeys", "Arn"]}
    assert outputs["MediaUrlSecretArn"]["Value"] == {"Ref": "MediaUrlSecret"}


def test_the_cache_key_is_the_object_key_alone() -> None:
    behavior = _media_behavior()
    policy = _resource(behavior["CachePolicyId"], "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    cache_key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert cache_key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert cache_key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert cache_key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert policy["DefaultTTL"] > 0  # repeated views are served from the cache
    assert "OriginRequestPolicyId" not in behavior  # nothing else (no query string) goes to the bucket


def test_files_get_the_local_fronts_headers_and_keep_their_own_type() -> None:
    behavior = _media_behavior()
    config = _resource(behavior["ResponseHeadersPolicyId"], "AWS::CloudFront::ResponseHeadersPolicy")
    policy = config["ResponseHeadersPolicyConfig"]
    security = policy["SecurityHeadersConfig"]
    assert security["ContentTypeOptions"]["Override"] is True  # X-Content-Type-Options: nosniff
    assert LOCAL_MEDIA_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert security["ContentSecurityPolicy"] == {
        "ContentSecurityPolicy": LOCAL_MEDIA_HEADERS["Content-Security-Policy"],
        "Override": True,
    }
    assert security["ReferrerPolicy"] == {"ReferrerPolicy": LOCAL_MEDIA_HEADERS["Referrer-Policy"], "Override": True}
    assert security["StrictTransportSecurity"]["Override"] is True
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    custom = {item["Header"].lower(): item for item in policy.get("CustomHeadersConfig", {}).get("Items", [])}
    assert custom["cache-control"]["Value"] == LOCAL_MEDIA_HEADERS["Cache-Control"]
    # the type and the disposition are the object's (attachment for anything not image/audio/video)
    assert not {"content-type", "content-disposition"} & set(custom)
    assert "RemoveHeadersConfig" not in policy
    # the dashboard's own policy (frame-src, scripts) is not the files'
    assert behavior["ResponseHeadersPolicyId"] != DISTRIBUTION["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]


def test_the_media_bucket_lets_only_this_distribution_read_only_media_files() -> None:
    statements = RESOURCES["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    [allow] = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${MediaBucket.Arn}/media/*"}
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${DashboardDistribution}"
            }
        }
    }
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Action"] == "s3:*" and deny["Principal"] == "*"


def test_the_status_api_points_media_url_at_the_distribution_unless_told_otherwise() -> None:
    environment = function_environment(TEMPLATE, "StatusApiFunction")
    assert environment["MEDIA_URL_BASE"] == {"Ref": "MediaUrlBase"}  # the override, empty by default
    assert TEMPLATE["Parameters"]["MediaUrlBase"]["Default"] == ""
    # otherwise the distribution's base, from a parameter the function names (not references)
    assert environment["MEDIA_URL_BASE_PARAMETER"] == PARAMETER_NAME
    [parameter] = [
        p["Properties"]
        for p in resources_of_type(TEMPLATE, "AWS::SSM::Parameter").values()
        if p["Properties"]["Name"] == PARAMETER_NAME
    ]
    assert parameter["Value"] == {"Fn::Sub": "https://${DashboardDistribution.DomainName}/media/"}
    granted = [
        statement["Resource"]
        for policy in RESOURCES["StatusApiFunction"]["Properties"]["Policies"]
        for statement in policy["Statement"]
        if statement["Action"] == "ssm:GetParameter"
    ]
    assert granted == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + PARAMETER_NAME["Fn::Sub"]}
    ]
    # the stack shows what is in use
    condition, override, default = TEMPLATE["Outputs"]["MediaUrlBaseInUse"]["Value"]["Fn::If"]
    assert TEMPLATE["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MediaUrlBase"}, ""]}]}
    assert (override, default) == ({"Ref": "MediaUrlBase"}, parameter["Value"])


def test_a_url_on_the_distributions_base_lands_on_the_media_behavior_and_names_the_object() -> None:
    # what the status API signs on the parameter's base is what the behavior and the function serve
    base = RESOURCES["MediaUrlBaseParameter"]["Properties"]["Value"]["Fn::Sub"].replace(
        "${DashboardDistribution.DomainName}", "d111111abcdef8.cloudfront.net"
    )
    url = signed_media_url(base, "media/conn/0123abcd", 1_764_158_700, "k")
    path = url.split("?", 1)[0].removeprefix("https://d111111abcdef8.cloudfront.net")
    assert path == PREFIX + "media/conn/0123abcd"  # the local front's path for the same file
    assert re.fullmatch(_media_behavior()["PathPattern"].replace("*", ".*"), path)


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        ("https://media.example.com/media/", True),
        ("https://d111111abcdef8.cloudfront.net/media/", True),
        ("https://media.example.com/", False),  # the function reads the key after /media/
        ("https://media.example.com/media", False),
        ("http://media.example.com/media/", False),
        ("https://media.example.com/files/media/", False),
    ],
)
def test_an_override_of_the_base_must_be_a_domain_of_the_distribution(value: str, allowed: bool) -> None:
    pattern = TEMPLATE["Parameters"]["MediaUrlBase"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is allowed


# ---------------------------------------------------------------- no dependency cycle
# `sam validate --lint` and cfn-lint look at the template before SAM's transform, so they miss a
# cycle through what SAM generates: the HTTP API's definition names every function with an HttpApi
# event. A reference from the status API's environment to the distribution (which names the HTTP
# API) would be one; CloudFormation refuses such a template only at deploy time.

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= set(_SUB_NAME.findall(text))
                if not isinstance(inner, str):
                    found |= _references(inner[1])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """Each resource's dependencies, with the edges SAM adds (the HTTP API → its functions)."""
    resources = template["Resources"]
    # a function's events become resources of their own (permissions, routes): not its dependencies
    graph = {
        logical: _references({**resource, "Properties": {**resource.get("Properties", {}), "Events": {}}})
        & set(resources)
        for logical, resource in resources.items()
    }
    for logical, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        graph[logical] |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                graph[event["Properties"]["ApiId"]["Ref"]].add(logical)
    globals_refs = _references(template.get("Globals", {})) & set(resources)
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            graph[logical] |= globals_refs
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One dependency cycle (its resources in order), or ``[]``."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_template_has_no_dependency_cycle_even_after_sams_transform() -> None:
    assert cycle(dependencies(TEMPLATE)) == []


def test_the_cycle_check_sees_the_one_an_environment_reference_to_the_distribution_makes() -> None:
    # why the status API reads the base from a parameter: the direct wiring is a cycle
    broken = copy.deepcopy(TEMPLATE)
    variables = broken["Resources"]["StatusApiFunction"]["Properties"]["Environment"]["Variables"]
    variables["MEDIA_URL_BASE"] = {"Fn::Sub": "https://${DashboardDistribution.DomainName}/media/"}
    found = cycle(dependencies(broken))
    assert {"StatusApiFunction", "DashboardDistribution", "HttpApi"} <= set(found)
