"""An HTTP call tried again while the server is busy or does not answer, as the SAM and
UconDB clients both need.

    response = send_retried(lambda: session.request(...), retries=3, backoff=0.5)

A 5xx answer or a failed connection is tried again after backoff, 2*backoff, 4*backoff, ...
seconds, `retries` times; any other answer is returned at once. Then the last answer is
returned (a 5xx too) or the last exception raised: what an error means, and how it is
named, is each client's.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import requests

NO_ANSWER = (requests.ConnectionError, requests.Timeout)


def send_retried(call: Callable[[], requests.Response], *, retries: int, backoff: float,
                 retry_on: tuple[type[Exception], ...] = NO_ANSWER) -> requests.Response:
    attempt = 0
    while True:
        try:
            response = call()
        except retry_on:
            if attempt >= retries:
                raise
        else:
            if response.status_code < 500 or attempt >= retries:
                return response
        time.sleep(backoff * 2 ** attempt)
        attempt += 1
