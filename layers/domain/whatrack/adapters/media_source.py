"""Meta's side of a media file: Graph's answer for its id, then the file itself, streamed.

The download sends the business token (Meta requires it) and reads the body in blocks as the
caller consumes them, so a 100 MB document never sits whole in memory. Only the URL Graph gave is
fetched, and the caller has checked its host (``MEDIA_DOWNLOAD_HOSTS``); redirects are not followed,
so the token cannot be carried anywhere else.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from whatrack.adapters.graph import HttpGraphApi
from whatrack.domain.errors import TransientError, UpstreamError
from whatrack.domain.media import MediaInfo, MediaUrlGoneError, normalized_sha256
from whatrack.domain.numbers import is_ascii_number

BLOCK = 256 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx surfaces as an HTTPError: the token follows no redirect


class HttpMediaSource:
    def __init__(
        self,
        graph: HttpGraphApi,
        *,
        timeout_seconds: float = 30.0,
        opener: Callable[..., Any] | None = None,
    ) -> None:
        self._graph = graph
        self._timeout = timeout_seconds
        self._open = opener or urllib.request.build_opener(_NoRedirects()).open

    def media_info(self, media_id: str, phone_number_id: str, token: str) -> MediaInfo:
        body = self._graph.media_info(media_id, phone_number_id, token)
        url = body.get("url")
        if not isinstance(url, str) or not url:
            # an answer that is no media object: asking again gets the same (the file fails, named)
            raise UpstreamError("Graph answered a media id without a url", definite=True)
        size = body.get("file_size")
        mime = body.get("mime_type")
        return MediaInfo(
            url=url,
            mime_type=mime if isinstance(mime, str) and mime else None,
            sha256=normalized_sha256(body.get("sha256")),
            file_size=int(size) if isinstance(size, int | str) and is_ascii_number(str(size)) else None,
        )

    @contextmanager
    def download(self, url: str, token: str) -> Iterator[Iterator[bytes]]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - checked host
        try:
            response = self._open(request, timeout=self._timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise MediaUrlGoneError(url.split("?", 1)[0]) from exc
            if exc.code in {401, 403}:
                raise UpstreamError(
                    f"the media URL refused the token (HTTP {exc.code})", status=401, definite=True
                ) from exc
            raise TransientError(f"the media URL answered HTTP {exc.code}") from exc
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise TransientError(f"the media URL did not answer ({type(exc).__name__})") from exc
        try:
            yield _blocks(response)
        finally:
            response.close()


def _blocks(response: Any) -> Iterator[bytes]:
    try:
        while block := response.read(BLOCK):
            yield block
    except (TimeoutError, http.client.HTTPException, OSError) as exc:
        raise TransientError(f"the media download broke off ({type(exc).__name__})") from exc
