"""Connection profiles, the botocore Config they imply, and the one client factory.

Profiles hold no secrets: credentials always come from boto3's standard chain
(environment, shared files, SSO, instance roles), from the OS keychain entry a
profile names (core/keychain.py), or, for the embedded demo endpoint only, from
runtime values that are never saved.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .buckets import bucket_name_problem

if TYPE_CHECKING:  # boto3 and botocore cost 0.2-0.5 s to import: only a call that talks to S3 pays it
    import boto3
    from botocore.config import Config

ADDRESSING_STYLES = ("auto", "path", "virtual")

# Interactive calls (listing, HEAD, preview) must fail fast enough that the
# window can report an unreachable endpoint within seconds; transfers can wait.
PURPOSES = {
    "interactive": {"connect_timeout": 3, "read_timeout": 20, "total_max_attempts": 2},
    "transfer": {"connect_timeout": 10, "read_timeout": 60, "total_max_attempts": 5},
}
# Transfers verify content by ETag after the fact; hashing every body for the signature as
# well (botocore does on plain http) costs a SHA-256 pass over every byte sent.
_UNSIGNED_PAYLOAD = {"transfer"}


@dataclass
class ConnectionProfile:
    """Where to connect: a named endpoint, region, AWS profile and bucket. Never a secret."""

    name: str = "default"
    endpoint_url: str = ""  # empty means AWS itself
    region: str = "us-east-1"
    aws_profile: str = ""  # empty means boto3's default chain
    bucket: str = ""
    addressing_style: str = "auto"
    verify_tls: bool = True
    # A keychain entry ("lakegui:NAME", see core/keychain.py) holding an access key and secret,
    # for endpoints without an AWS profile. Only the entry's name is saved, never the keys.
    keychain: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "ConnectionProfile":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_options(cls, *, endpoint_url: str = "", region: str = "us-east-1", aws_profile: str = "",
                     bucket: str = "") -> "ConnectionProfile":
        """An unsaved profile from command-line options; custom endpoints get path-style addressing."""
        return cls(name="command line", endpoint_url=endpoint_url, region=region, aws_profile=aws_profile,
                   bucket=bucket, addressing_style="path" if endpoint_url else "auto")

    @property
    def raw_listing(self) -> bool:
        """Whether listings parse pages themselves (see listing._raw_page). Only for explicit
        endpoints: against AWS itself botocore's path is kept, which is also what in-process
        test doubles of AWS intercept."""
        return bool(self.endpoint_url)

    def problems(self) -> list[str]:
        """What is wrong with this profile, as messages a person can act on."""
        out = []
        if not self.name.strip():
            out.append("The profile needs a name.")
        if self.endpoint_url:
            url = urlparse(self.endpoint_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                out.append(f"Endpoint URL '{self.endpoint_url}' must look like https://host[:port].")
        if self.addressing_style not in ADDRESSING_STYLES:
            out.append(f"Addressing style must be one of {', '.join(ADDRESSING_STYLES)}.")
        if self.bucket and (problem := bucket_name_problem(self.bucket)):
            out.append(problem)
        if not self.verify_tls and not self.endpoint_url:
            out.append("TLS verification can only be turned off for a named endpoint (an endpoint URL), "
                       "never for AWS itself.")
        if self.keychain and self.aws_profile:
            out.append("Use either an AWS profile or keys in the keychain, not both.")
        return out

    def describe(self, where: str = "") -> str:
        """'name: endpoint as who · s3://bucket'. `where`: the endpoint in effect when the profile
        names none (Connection.where: one configured outside lakegui); else the profile's, or AWS."""
        where = self.endpoint_url or where or f"AWS {self.region}"
        who = f" as {self.aws_profile}" if self.aws_profile else (" · keys in keychain" if self.keychain else "")
        bucket = f" · s3://{self.bucket}" if self.bucket else ""
        unverified = " · TLS NOT VERIFIED" if not self.verify_tls and self.endpoint_url.startswith("https") else ""
        return f"{self.name}: {where}{who}{bucket}{unverified}"


@dataclass(frozen=True)
class StaticCredentials:
    """Runtime-only credentials (the demo endpoint's). Never written anywhere."""

    access_key: str
    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"StaticCredentials(access_key={self.access_key!r}, secret_key='***')"

    @property
    def token(self) -> str | None:
        return self.session_token

    def get_frozen_credentials(self) -> "StaticCredentials":
        """As botocore's credentials answer it (access_key, secret_key, token): these never change."""
        return self


def make_config(profile: ConnectionProfile, *, purpose: str = "interactive",
                concurrency: int = 20, read_timeout: int | None = None, endpoint_url: str = "") -> Config:
    """The botocore Config for a profile and a use; `read_timeout` overrides a transfer's.
    `endpoint_url`: the endpoint in effect when it is not the profile's (see Connection.endpoint_url)."""
    from botocore.config import Config

    p = dict(PURPOSES[purpose])
    if read_timeout and purpose == "transfer":
        p["read_timeout"] = read_timeout
    options = dict(
        region_name=profile.region or None,
        # One pooled connection per concurrent request, or botocore drops and re-opens them.
        max_pool_connections=max(10, concurrency + 2),
        retries={"mode": "standard", "total_max_attempts": p["total_max_attempts"]},
        tcp_keepalive=True,
        connect_timeout=p["connect_timeout"],
        read_timeout=p["read_timeout"],
        s3={"addressing_style": profile.addressing_style,
            **({"payload_signing_enabled": False} if purpose in _UNSIGNED_PAYLOAD else {})},
        user_agent_extra="lakegui",
        signature_version="s3v4",  # presigned URLs too (boto3 would presign with legacy SigV2)
    )
    if profile.endpoint_url or endpoint_url:
        # Many S3-compatible servers reject the CRC32 checksums recent botocore sends by default.
        options.update(request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")
    return Config(**options)


def available_aws_profiles() -> list[str]:
    """Profile names from the shared AWS config and credentials files."""
    import botocore.session

    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception:  # a broken config file must not break the dialog
        return []


class Connection:
    """A profile made live: one boto3 session, and clients created once and shared.

    boto3 clients are thread-safe, sessions are not, so clients are built here
    under a lock and reused by every worker.
    """

    def __init__(self, profile: ConnectionProfile, *, credentials: StaticCredentials | None = None,
                 concurrency: int = 20, read_timeout: int | None = None):
        self.profile = profile
        self.concurrency = concurrency
        self.read_timeout = read_timeout  # of transfers; None keeps the purpose's default
        self._credentials = credentials
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._botocore = None  # botocore.session.Session: credentials without building a client
        self._clients: dict[str, object] = {}
        self._endpoint: str | None = None  # the configured endpoint, once looked up
        self._endpoint_source = ""  # where it is configured: AWS_ENDPOINT_URL, "AWS profile NAME"

    @property
    def bucket(self) -> str:
        return self.profile.bucket

    @property
    def endpoint_url(self) -> str:
        """The endpoint every request goes to, as botocore resolves it for S3: the profile's, else
        one configured outside lakegui (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the AWS profile's
        `endpoint_url` or its services section, unless ignore_configured_endpoint_urls), else ''
        for AWS itself. The native engine and the cluster's workers use this, so bytes go where
        listings go."""
        if self.profile.endpoint_url:
            return self.profile.endpoint_url
        if self._endpoint is None:
            found, source = "", ""
            if _may_configure_endpoint():
                with self._lock:
                    if self._botocore is None and not (self.profile.keychain and self._credentials is None):
                        self._botocore = self._make_botocore_session()
                    # A keychain's keys are not needed to find an endpoint: not read (asked for) here.
                    session = self._botocore or _plain_session(self.profile.aws_profile)
                found, source = _configured_endpoint(session)
            self._endpoint_source = source
            self._endpoint = found
        return self._endpoint

    def where(self) -> str:
        """The endpoint in effect, for a person: the profile's URL, 'URL (from AWS_ENDPOINT_URL)'
        or '(from AWS profile NAME)' for one configured outside lakegui, else 'AWS REGION'."""
        try:
            url = self.endpoint_url
        except Exception:  # noqa: BLE001  an unreadable AWS config: a request will say what is wrong
            url = self.profile.endpoint_url
        if not url:
            return f"AWS {self.profile.region}"
        return url if self.profile.endpoint_url else f"{url} (from {self._endpoint_source})"

    def _make_botocore_session(self):
        """botocore's session alone: the profile's credential chain without boto3 or an S3 client."""
        import botocore.session

        session = botocore.session.Session(profile=self.profile.aws_profile or None)
        if self._credentials is None and self.profile.keychain:
            from .keychain import load  # raises KeychainError with what to do

            self._credentials = load(self.profile.keychain)
        if self._credentials:
            session.set_credentials(self._credentials.access_key, self._credentials.secret_key,
                                    self._credentials.session_token)
        return session

    def _make_session(self) -> boto3.Session:
        import boto3

        if self._botocore is None:
            self._botocore = self._make_botocore_session()
        return boto3.Session(botocore_session=self._botocore)  # the same chain, resolved once

    def client(self, purpose: str = "interactive"):
        """The shared S3 client for `purpose` ("interactive" or "transfer")."""
        endpoint = self.endpoint_url  # botocore finds a configured one itself; its checksums are ours
        with self._lock:
            if purpose not in self._clients:
                if self._session is None:
                    self._session = self._make_session()
                self._clients[purpose] = self._session.client(
                    "s3",
                    endpoint_url=self.profile.endpoint_url or None,
                    verify=self.profile.verify_tls,
                    config=make_config(self.profile, purpose=purpose, concurrency=self.concurrency,
                                       read_timeout=self.read_timeout, endpoint_url=endpoint),
                )
            return self._clients[purpose]

    def credentials(self):
        """botocore's credentials from the profile's chain (refreshable), or None if there are none.
        Resolved through botocore's session alone: the native engine and presigned listings need no
        boto3 and no S3 client (whose model costs 0.1-0.2 s to load)."""
        with self._lock:
            if self._botocore is None:
                self._botocore = self._make_botocore_session()
            return self._botocore.get_credentials()

    def signing_credentials(self):
        """What the native engine signs with: the environment's keys where they alone decide the
        chain (see _environment_credentials: no botocore session is built, 60 ms of the CLI's
        start), else `credentials()`. Either answers get_frozen_credentials(); None when there
        are none."""
        return self._environment_credentials() or self.credentials()

    def listing_client(self):
        """What a PrefixLister lists with: for a path-style named endpoint (raw listing), a
        ListingSigner that presigns each page's GET without an S3 client; else the client."""
        with self._lock:
            built = "interactive" in self._clients
        p = self.profile
        if built or not (p.raw_listing and p.addressing_style == "path"):
            return self.client()
        credentials = self.signing_credentials()
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        return ListingSigner(p.endpoint_url, p.region or "us-east-1", credentials)

    def _environment_credentials(self) -> StaticCredentials | None:
        """The chain's answer when its first link decides: keys in the environment, no profile named
        (by option, AWS_PROFILE or a keychain entry) and nothing that expires. botocore's resolver
        returns exactly these then; reading them here spares importing botocore (0.2 s) for a listing."""
        import os

        env = os.environ
        if (self._credentials is not None or self.profile.aws_profile or self.profile.keychain
                or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_CREDENTIAL_EXPIRATION")):
            return self._credentials
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return None
        return StaticCredentials(key, secret, env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None)

    def describe(self, bucket: str | None = None) -> str:
        """The profile as Profile.describe says it, with the endpoint in effect (see where) and
        `bucket` for the profile's when given."""
        profile = self.profile if bucket is None else replace(self.profile, bucket=bucket)
        return profile.describe(self.where())


def configured_endpoint(aws_profile: str = "") -> tuple[str, str]:
    """(URL, where it is configured) of an S3 endpoint named outside lakegui for `aws_profile`
    ('' for the default chain's), as Connection.endpoint_url finds it; ('', '') when there is none
    or the configuration cannot be read (an unknown profile, a broken file): for display only."""
    if not _may_configure_endpoint():
        return "", ""
    try:
        return _configured_endpoint(_plain_session(aws_profile))
    except Exception:  # noqa: BLE001  a half-typed profile name must not break the dialog
        return "", ""


def _configured_endpoint(session) -> tuple[str, str]:
    """(URL, source) botocore resolves for S3 from the environment and the shared config file."""
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return "", ""
    import os

    from botocore.configprovider import ConfiguredEndpointProvider

    url = ConfiguredEndpointProvider(full_config=session.full_config, scoped_config=session.get_scoped_config(),
                                     client_name="s3").provide() or ""
    if not url:
        return "", ""
    # botocore's order: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then the profile's services section
    # or its endpoint_url
    source = next((var for var in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") if os.environ.get(var) == url),
                  f"AWS profile {session.profile or 'default'}")
    return url, source


def _plain_session(aws_profile: str):
    import botocore.session

    return botocore.session.Session(profile=aws_profile or None)


def _may_configure_endpoint() -> bool:
    """Whether an S3 endpoint may be configured outside lakegui: an AWS_ENDPOINT_URL variable, or
    `endpoint_url` anywhere in the shared config file. When neither, botocore's session (0.1 s of
    a CLI start) need not be built to find that none is."""
    import os

    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"):
        return True
    path = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config"))
    try:
        with open(path, "rb") as f:
            return b"endpoint_url" in f.read()
    except OSError:
        return False


_LIST_PARAMS = {"Prefix": "prefix", "Delimiter": "delimiter", "MaxKeys": "max-keys", "EncodingType": "encoding-type",
                "ContinuationToken": "continuation-token", "StartAfter": "start-after", "FetchOwner": "fetch-owner",
                "KeyMarker": "key-marker", "VersionIdMarker": "version-id-marker"}  # the last two: versions
_UNRESERVED = "-_.~"


class ListingSigner:
    """Presigned ListObjectsV2 URLs for a path-style endpoint, signed locally with SigV4 (query
    parameters, unsigned payload, as botocore's S3SigV4QueryAuth signs them) from the profile's
    credentials. It stands in for the S3 client where a listing only needs `generate_presigned_url`:
    building a client loads botocore's S3 model, 0.1-0.2 s of a 0.3 s `ls`; this needs hashlib."""

    def __init__(self, endpoint_url: str, region: str, credentials):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self._credentials = credentials  # StaticCredentials, or botocore's (refreshable) Credentials

    def _frozen(self) -> tuple[str, str, str | None]:
        c = self._credentials
        if isinstance(c, StaticCredentials):
            return c.access_key, c.secret_key, c.session_token
        f = c.get_frozen_credentials()  # botocore refreshes expiring ones here
        return f.access_key, f.secret_key, f.token

    def generate_presigned_url(self, operation: str, Params: dict, ExpiresIn: int = 900,  # noqa: N803
                               now=None) -> str:
        import datetime as dt
        import hashlib
        import hmac
        from urllib.parse import quote, urlsplit

        if operation not in ("list_objects_v2", "list_object_versions"):
            raise ValueError(f"ListingSigner presigns list_objects_v2 and list_object_versions, not {operation}")
        params = dict(Params)
        bucket = params.pop("Bucket")
        access, secret, token = self._frozen()
        when = now or dt.datetime.now(dt.timezone.utc)
        stamp, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
        scope = f"{day}/{self.region}/s3/aws4_request"
        query = [("list-type", "2") if operation == "list_objects_v2" else ("versions", "")]
        query += [(_LIST_PARAMS[k], str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()]
        query += [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{access}/{scope}"),
                  ("X-Amz-Date", stamp), ("X-Amz-Expires", str(ExpiresIn)), ("X-Amz-SignedHeaders", "host")]
        if token:
            query.append(("X-Amz-Security-Token", token))
        canonical_query = "&".join(f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}"
                                   for k, v in sorted(query))
        url = urlsplit(self.endpoint_url)
        default_port = {"http": 80, "https": 443}.get(url.scheme)
        host = url.hostname if url.port in (None, default_port) else f"{url.hostname}:{url.port}"
        if url.hostname and ":" in url.hostname:  # an IPv6 literal keeps its brackets
            host = f"[{url.hostname}]" + ("" if url.port in (None, default_port) else f":{url.port}")
        path = f"{url.path}/{quote(bucket, safe=_UNRESERVED)}"
        canonical = "\n".join(["GET", path, canonical_query, f"host:{host}\n", "host",
                               "UNSIGNED-PAYLOAD"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{url.scheme}://{url.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"
