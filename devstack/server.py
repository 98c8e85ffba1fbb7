"""Assemble and run the local stack."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
from moto.server import ThreadedMotoServer

from devstack import moto_patches
from devstack.http_front import StaticSite, dashboard_config, load_routes, make_server
from devstack.media_front import LocalMediaServer
from devstack.meta import MetaSimulator
from devstack.provision import REGION, Provisioned, provision
from devstack.runtime import LocalFunction, load_functions
from devstack.scheduler import DEFAULT_INTERVAL_SECONDS, Schedule, build_schedules
from devstack.sqs_poller import QueuePoller, build_pollers

log = logging.getLogger("devstack")

# Process-wide settings every handler sees locally (never set in AWS).
LOCAL_MEDIA_LEASE_SECONDS = 10
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 3000
    visibility_timeout_override: int | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    provisioned: Provisioned | None = None
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    pollers: list[QueuePoller] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    watchdog_interval: float = DEFAULT_INTERVAL_SECONDS
    function_log: Path | None = None  # where the functions' JSON log lines go (default: stdout)
    meta: MetaSimulator | None = None
    """Meta's side, simulated: the functions' Graph calls go to it, its webhooks come to this stack's
    ``/webhook``; the stack starts and stops it. ``None``: Graph is ``GRAPH_API_BASE_URL`` (Meta's own)."""
    aws_endpoint: str = ""
    _function_log_stream: IO[str] | None = None
    _moto: ThreadedMotoServer | None = None
    _http: Any = None
    _ready: bool = False

    def start(self) -> None:
        """Start everything; a start that fails half-way stops what it had started, then raises."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every AWS call
        moto_patches.install()  # the server's backends live in this process: transactions stop copying tables
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        moto_host, moto_port = self._moto.get_host_and_port()
        self.aws_endpoint = f"http://{moto_host}:{moto_port}"
        os.environ.update(LOCAL_ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint
        if self.meta is not None:
            self._start_meta(self.meta)
        self.provisioned = provision(self.aws_endpoint, visibility_timeout_override=self.visibility_timeout_override)
        os.environ.update(self.provisioned.environment)
        if self.visibility_timeout_override is not None:
            # queues that bring a record back within seconds: a download that died holds its file
            # as briefly (its lease stays above a local download's few seconds)
            os.environ["MEDIA_LEASE_SECONDS"] = str(LOCAL_MEDIA_LEASE_SECONDS)

        from whatrack import wiring

        wiring.reset()
        template = self.provisioned.template
        self.functions = load_functions(template)
        for function in self.functions.values():
            function.handler()  # import now: fail fast, and keep first requests fast
        if self.function_log is not None:
            self._function_log_stream = send_function_logs_to(self.function_log, self.provisioned.environment)
        self._start_pollers(template)
        self.schedules = build_schedules(template, self.functions, self.watchdog_interval, self.stop_event)
        for schedule in self.schedules:
            schedule.start()
        site = StaticSite(config=dashboard_config())
        self._http = make_server(
            self.host,
            self.port,
            load_routes(template, self.functions),
            lambda: self._ready,
            site,
            self.describe,
            media=self._media_server(),
        )
        self.port = self._http.server_address[1]
        # media.url points at this front (the status API reads it on its first request)
        os.environ["MEDIA_URL_BASE"] = f"{self.url}/media/"
        threading.Thread(target=self._http.serve_forever, name="http-front", daemon=True).start()
        if self.meta is not None:
            self.meta.deliver_to(f"{self.url}/webhook")
        self._ready = True
        log.info("local stack ready on http://%s:%d (AWS emulation at %s)", self.host, self.port, self.aws_endpoint)

    @staticmethod
    def _start_meta(meta: MetaSimulator) -> None:
        secret = os.environ.get("META_APP_SECRET", "local-app-secret")
        if meta.app_secret != secret:
            raise ValueError("the Meta simulator signs with another app secret than META_APP_SECRET")
        meta.start()
        os.environ["GRAPH_API_BASE_URL"] = meta.base_url  # read by provision(): every function calls it
        # its media URLs point at itself (plain http): the one download host a local stack allows
        os.environ["MEDIA_DOWNLOAD_HOSTS"] = meta.download_host

    def _media_server(self) -> LocalMediaServer:
        assert self.provisioned is not None
        s3 = boto3.client("s3", endpoint_url=self.aws_endpoint, region_name=REGION)
        secrets = boto3.client("secretsmanager", endpoint_url=self.aws_endpoint, region_name=REGION)
        arn = self.provisioned.secrets["MediaUrlSecret"]
        key = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["key"]
        return LocalMediaServer(s3, self.provisioned.buckets["MediaBucket"], lambda: str(key))

    def _start_pollers(self, template: dict[str, Any]) -> None:
        assert self.provisioned is not None
        sqs = boto3.client("sqs", endpoint_url=self.aws_endpoint, region_name=REGION)
        self.pollers = build_pollers(template, self.provisioned, self.functions, sqs, self.stop_event)
        for poller in self.pollers:
            poller.start()

    def describe(self) -> dict[str, Any]:
        """What an operator script needs to act on this stack (``GET /_devstack/stack``)."""
        assert self.provisioned is not None
        return {
            "awsEndpoint": self.aws_endpoint,
            "region": REGION,
            "environment": dict(self.provisioned.environment),
            "queues": dict(self.provisioned.queues),
            "metaSimulator": self.meta.base_url if self.meta is not None else None,
        }

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._ready = False
        self.stop_event.set()
        if self.meta is not None:  # first: its webhooks would meet a closed port
            self.meta.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for thread in [*self.pollers, *self.schedules]:
            thread.join(timeout=5)
        try:
            if self._moto is not None:
                # the emulated AWS state lives in this process, not in the server: clear it, so a
                # later stack in the same process (another test tier) starts empty
                reset = urllib.request.Request(f"{self.aws_endpoint}/moto-api/reset", method="POST")  # noqa: S310
                with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - our own 127.0.0.1 server
                    pass
        finally:
            if self._moto is not None:
                self._moto.stop()
            if self._function_log_stream is not None:
                restore_function_logs(self._function_log_stream)
                self._function_log_stream.close()
        log.info("local stack stopped")


def send_function_logs_to(path: Path, environment: dict[str, str]) -> IO[str]:
    """Point the functions' logger (Powertools, one per service name, shared by every handler of
    the process) at ``path`` instead of stdout. Returns the open file, for :meth:`LocalStack.stop`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("a", encoding="utf-8", buffering=1)  # line-buffered: ``tail -f`` works
    service = logging.getLogger(environment.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    for handler in service.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setStream(stream)
    return stream


def restore_function_logs(stream: IO[str]) -> None:
    """Point every handler writing to ``stream`` back at stdout (a line logged after the stack
    stopped must not hit a closed file)."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
                handler.setStream(sys.stdout)
