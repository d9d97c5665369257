"""Building the opensearch-py client from the sink's options, and turning its errors into ours.

Options: ``endpoint`` (``OPENSEARCH_ENDPOINT``; ``https://`` is assumed without a scheme),
``auth`` = ``none`` | ``basic`` | ``sigv4`` (default: ``sigv4`` for ``*.es.amazonaws.com`` and
``*.aoss.amazonaws.com``, ``basic`` when a ``username`` is set, else ``none``), ``username``
(or ``OPENSEARCH_USERNAME``), ``password_file`` or ``password`` (or ``OPENSEARCH_PASSWORD``),
``region`` (default: from the endpoint's host name, else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``,
else boto3's configured region), ``verify_certs`` (default true), ``ca_bundle``, ``timeout``
(seconds per request, default 30) and ``http_compress`` (default false). The password is
kept only inside the client; it never appears in a message or a ``repr``.

SigV4 signs every request with boto3's default credential chain (environment, profile,
instance role through IMDSv2) and refreshes expiring role credentials on its own.

Which layer retries what, so attempts never multiply:

- opensearch-py: nothing. ``max_retries=0`` and ``retry_on_timeout=False``; a timeout or a
  refused connection surfaces at once.
- the sink: nothing either. It classifies: a whole request that fails (connection, timeout,
  429 or 5xx for the request) raises a :class:`~extractkit.errors.TransientError`; a bulk item
  answered 429 or 5xx becomes that record's own ``Throttled`` / ``ServiceError``; an item
  refused for good (a mapping error) becomes that record's ``SinkFailed``.
- the pipeline (:mod:`extractkit.batching` with :mod:`extractkit.retry`): retries transient
  records, and only those, with exponential backoff and jitter, in later batches.
- the source: an SQS message whose record still fails is released with a visibility backoff,
  and the queue's redrive policy moves repeat offenders to the DLQ.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from extractkit.errors import ConfigError, DocumentError, NetworkError, ServiceError, Throttled

from ..extras import require_for_config

SECTION = "sink"
AUTH_MODES = ("none", "basic", "sigv4")
CLIENT_OPTIONS = (
    "endpoint",
    "auth",
    "username",
    "password",
    "password_file",
    "region",
    "verify_certs",
    "ca_bundle",
    "timeout",
    "http_compress",
)
DEFAULT_TIMEOUT = 30.0
_AWS_HOST = re.compile(r"\.(?P<region>[a-z0-9-]+)\.(?P<service>es|aoss)\.amazonaws\.com$")


def as_bool(key: str, value: Any) -> bool:
    """A boolean option (true/false, yes/no, 1/0), or a :class:`ConfigError` naming ``sink.<key>``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{SECTION}.{key}", f"expected true or false, got {value!r}")


def _as_positive_float(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{SECTION}.{key}", f"expected a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or number <= 0:
        raise ConfigError(f"{SECTION}.{key}", f"expected a positive number of seconds, got {value!r}")
    return number


def normalise_endpoint(endpoint: str) -> str:
    """The endpoint as a URL: ``https://`` when it names no scheme, no trailing slash."""
    endpoint = endpoint.strip().rstrip("/")
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    return endpoint


def aws_service_for_host(host: str) -> tuple[str, str] | None:
    """``(service, region)`` for an Amazon OpenSearch host (``es`` or ``aoss``), else ``None``."""
    match = _AWS_HOST.search(host.lower())
    if match is None:
        return None
    return match.group("service"), match.group("region")


@dataclass(frozen=True)
class ClientSettings:
    """How to reach and authenticate to the cluster (validated)."""

    endpoint: str
    auth: str = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    region: str | None = None
    aws_service: str = "es"
    verify_certs: bool = True
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    http_compress: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ClientSettings:
        """Read and check the client options; a bad one is a :class:`ConfigError` naming its key."""
        env = os.environ if environ is None else environ
        raw_endpoint = options.get("endpoint") or env.get("OPENSEARCH_ENDPOINT")
        if not isinstance(raw_endpoint, str) or not raw_endpoint.strip():
            raise ConfigError(f"{SECTION}.endpoint", "is required (or set OPENSEARCH_ENDPOINT)")
        endpoint = normalise_endpoint(raw_endpoint)
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{SECTION}.endpoint", f"expected http(s)://host[:port], got {raw_endpoint!r}")
        aws = aws_service_for_host(parts.hostname)
        username = options.get("username") or env.get("OPENSEARCH_USERNAME") or None
        auth = str(options.get("auth") or ("sigv4" if aws else "basic" if username else "none")).lower()
        if auth not in AUTH_MODES:
            raise ConfigError(f"{SECTION}.auth", f"expected one of {', '.join(AUTH_MODES)}, got {auth!r}")
        password = _password(options, env) if auth == "basic" else None
        if auth == "basic" and (not username or not password):
            raise ConfigError(
                f"{SECTION}.username" if not username else f"{SECTION}.password_file",
                "basic auth needs a username and a password (password_file, or OPENSEARCH_PASSWORD)",
            )
        region = (
            options.get("region") or (aws[1] if aws else None) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        )
        ca_bundle = options.get("ca_bundle")
        if ca_bundle is not None and not Path(str(ca_bundle)).is_file():
            raise ConfigError(f"{SECTION}.ca_bundle", f"no such file: {ca_bundle}")
        return cls(
            endpoint=endpoint,
            auth=auth,
            username=str(username) if username else None,
            password=password,
            region=str(region) if region else None,
            aws_service=aws[0] if aws else "es",
            verify_certs=as_bool("verify_certs", options.get("verify_certs", True)),
            ca_bundle=str(ca_bundle) if ca_bundle else None,
            timeout=_as_positive_float("timeout", options.get("timeout", DEFAULT_TIMEOUT)),
            http_compress=as_bool("http_compress", options.get("http_compress", False)),
        )


def _password(options: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    password_file = options.get("password_file")
    if password_file:
        try:
            return Path(str(password_file)).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"{SECTION}.password_file", f"cannot be read ({exc.strerror})") from None
    value = options.get("password") or env.get("OPENSEARCH_PASSWORD")
    return str(value) if value else None


def _sigv4_auth(settings: ClientSettings) -> Any:
    opensearchpy = require_for_config("opensearchpy", "opensearch", f"{SECTION}.auth", "sign requests with SigV4")
    boto3 = require_for_config("boto3", "opensearch", f"{SECTION}.auth", "sign requests with SigV4")
    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise ConfigError(f"{SECTION}.auth", "sigv4 needs AWS credentials, and the default chain found none")
    region = settings.region or session.region_name
    if not region:
        raise ConfigError(f"{SECTION}.region", "sigv4 needs a region (set sink.region or AWS_REGION)")
    return opensearchpy.Urllib3AWSV4SignerAuth(credentials, region, settings.aws_service)


def build_client(settings: ClientSettings) -> Any:
    """An ``opensearchpy.OpenSearch`` client for the settings, with its own retries switched off."""
    opensearchpy = require_for_config("opensearchpy", "opensearch", f"{SECTION}.type", "write to OpenSearch")
    http_auth: Any = None
    if settings.auth == "basic":
        http_auth = (settings.username, settings.password)
    elif settings.auth == "sigv4":
        http_auth = _sigv4_auth(settings)
    parts = urlsplit(settings.endpoint)
    use_ssl = parts.scheme == "https"
    kwargs: dict[str, Any] = {
        "hosts": [settings.endpoint],
        "http_auth": http_auth,
        "use_ssl": use_ssl,
        "verify_certs": settings.verify_certs if use_ssl else False,
        "ssl_show_warn": False,
        "timeout": settings.timeout,
        "max_retries": 0,
        "retry_on_timeout": False,
        "http_compress": settings.http_compress,
    }
    if settings.ca_bundle:
        kwargs["ca_certs"] = settings.ca_bundle
    return opensearchpy.OpenSearch(**kwargs)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an opensearch-py error, when it has one."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _reason_of(exc: BaseException) -> str:
    info = getattr(exc, "info", None)
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            return f"{error.get('type', '')}: {error.get('reason', '')}"[:300]
        if error:
            return str(error)[:300]
    error = getattr(exc, "error", None)
    return str(error or type(exc).__name__)[:300]


def is_client_error(exc: BaseException) -> bool:
    """True for the errors opensearch-py raises (``OpenSearchException`` and its transport errors)."""
    module = type(exc).__module__ or ""
    return module.startswith("opensearchpy")


def transient_error_for(exc: BaseException, what: str) -> DocumentError:
    """The error for a whole request that failed: network, throttling or a server error (all transient).

    A 4xx other than 429 (refused credentials, a blocked index) is a cluster-side condition
    an operator fixes; it is transient too, so nothing is dropped meanwhile.
    """
    status = status_of(exc)
    if status == 429:
        return Throttled(f"OpenSearch throttled {what} (HTTP 429); it is retried")
    if status is None:
        return NetworkError(f"OpenSearch did not answer {what} ({type(exc).__name__}); it is retried")
    if status in (401, 403):
        return ServiceError(f"OpenSearch refused {what} (HTTP {status}: check the credentials and the access policy)")
    return ServiceError(f"OpenSearch failed {what} (HTTP {status}: {_reason_of(exc)}); it is retried")


def unreachable_message(exc: BaseException, endpoint: str) -> str:
    """One line saying why the cluster cannot be used, for ``check()``."""
    status = status_of(exc)
    host = urlsplit(endpoint).netloc
    if status in (401, 403):
        return f"OpenSearch at {host} refused the credentials (HTTP {status}); check sink.auth and the access policy"
    if status is not None:
        return f"OpenSearch at {host} answered HTTP {status}: {_reason_of(exc)}"
    return f"OpenSearch at {host} is unreachable ({type(exc).__name__})"
