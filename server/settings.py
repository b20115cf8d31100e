"""The service's settings, read once from the environment at start.

Nothing else in the code base reads ``os.environ``: entry points build one `Settings` and pass it in.
A malformed value stops the start with a message naming the variable and never echoing a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from server.errors import ConfigurationError
from server.secret import Secret

CHAIN_IDS = {137: "Polygon mainnet", 80002: "Polygon Amoy testnet"}
ROLES = ("viewer", "admin")

# Applied with `fullmatch`: `$` would also match before a final "\n".
_HEX_KEY = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_TOKEN_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,9}")  # not str.isdigit(): it is true of "²" (int() fails) and "١٣٧" (137)


@dataclass(frozen=True)
class AdminToken:
    """A bearer token for the GraphQL gateway; `name` is the author recorded for its changes."""

    name: str
    role: str
    token: Secret


@dataclass(frozen=True)
class VenueCredentials:
    """Polymarket L2 API credentials (all three or none)."""

    api_key: Secret
    api_secret: Secret
    api_passphrase: Secret


@dataclass(frozen=True)
class Settings:
    grpc_listen: str = "127.0.0.1:50051"
    gateway_listen: str = "127.0.0.1:8000"
    sim_listen: str = "127.0.0.1:8081"
    metrics_listen: str = "127.0.0.1:9100"
    # Empty: not set; `hedging up` then starts PostgreSQL of its own (server/store/local_postgres.py).
    database_url: str = ""
    polymarket_url: str | None = None
    geoblock_url: str = "https://polymarket.com/api/geoblock"
    # Where redemptions and merges go through the official SDK (server/venue/positions_client.py):
    # Gamma (market ids) and a Polygon JSON-RPC node; None: the SDK's production endpoints.
    gamma_url: str | None = None
    rpc_url: str | None = None
    chain_id: int = 137
    private_key: Secret | None = field(default=None, repr=False)
    venue_credentials: VenueCredentials | None = field(default=None, repr=False)
    signature_type: int = 0
    funder: str | None = None
    admin_tokens: tuple[AdminToken, ...] = field(default=(), repr=False)
    dev_mode: bool = False
    venue_timeout: Decimal = Decimal("5")
    db_threads: int = 8
    workers: int | None = None  # None: the command's own default (`workers_of`)
    log_level: str = "INFO"
    log_format: str = "text"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Builds settings from an environment mapping; raises `ConfigurationError` on a bad value."""
        return cls(
            grpc_listen=_listen(env, "HEDGING_GRPC_LISTEN", cls.grpc_listen),
            gateway_listen=_listen(env, "HEDGING_GATEWAY_LISTEN", cls.gateway_listen),
            sim_listen=_listen(env, "HEDGING_SIM_LISTEN", cls.sim_listen),
            metrics_listen=_listen(env, "HEDGING_METRICS_LISTEN", cls.metrics_listen),
            database_url=_database_url(env.get("DATABASE_URL", "")),
            polymarket_url=_http_url(env, "POLYMARKET_CLOB_URL"),
            geoblock_url=_http_url(env, "POLYMARKET_GEOBLOCK_URL") or cls.geoblock_url,
            gamma_url=_http_url(env, "POLYMARKET_GAMMA_URL"),
            rpc_url=_http_url(env, "POLYMARKET_RPC_URL"),
            chain_id=_chain_id(env.get("POLYMARKET_CHAIN_ID", "137")),
            private_key=_private_key(env.get("POLYMARKET_PRIVATE_KEY")),
            venue_credentials=_credentials(env),
            signature_type=_choice_int(env, "POLYMARKET_SIGNATURE_TYPE", "0", (0, 1, 2)),
            funder=_address(env, "POLYMARKET_FUNDER"),
            admin_tokens=_admin_tokens(env.get("HEDGING_ADMIN_TOKENS", "")),
            dev_mode=_flag(env, "HEDGING_DEV_MODE"),
            venue_timeout=_positive_decimal(env, "HEDGING_VENUE_TIMEOUT_SECONDS", "5"),
            db_threads=_choice_int(env, "HEDGING_DB_THREADS", "8", tuple(range(1, 65))),
            workers=_choice_int(env, "HEDGING_WORKERS", "1", WORKER_COUNTS)
            if env.get("HEDGING_WORKERS")
            else None,
            log_level=_log_level(env.get("HEDGING_LOG_LEVEL", "INFO")),
            log_format=_log_format(env.get("HEDGING_LOG_FORMAT") or "text"),
        )


def _fail(variable: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{variable} {what}")


def _listen(env: Mapping[str, str], variable: str, default: str) -> str:
    value = env.get(variable) or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not _DIGITS.fullmatch(port) or not 0 <= int(port) <= 65535:
        raise _fail(variable, f"must be HOST:PORT with a port from 0 to 65535, got {value!r}")
    return value


def _database_url(value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme in ("postgres", "postgresql"):
        if not parts.hostname and "host=" not in parts.query:
            raise _fail("DATABASE_URL", "must name a host, as postgresql://user@127.0.0.1:5432/dbname")
        if not parts.path.strip("/"):
            raise _fail("DATABASE_URL", "must name a database, as postgresql://user@127.0.0.1:5432/dbname")
        try:
            _ = parts.port
        except ValueError:
            raise _fail("DATABASE_URL", "has a malformed port") from None
        return value
    # The URL may carry a password: name the scheme only.
    raise _fail(
        "DATABASE_URL",
        f"must be a PostgreSQL URL (postgresql://user@host:5432/dbname), not {parts.scheme or '(none)'}:",
    )


def _http_url(env: Mapping[str, str], variable: str) -> str | None:
    value = env.get(variable)
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(variable, "must be an http:// or https:// URL, as https://clob.polymarket.com")
    return value.rstrip("/")


def _chain_id(value: str) -> int:
    if not _DIGITS.fullmatch(value) or int(value) not in CHAIN_IDS:
        known = ", ".join(f"{k} ({v})" for k, v in CHAIN_IDS.items())
        raise _fail("POLYMARKET_CHAIN_ID", f"must be one of {known}, got {value!r}")
    return int(value)


def _private_key(value: str | None) -> Secret | None:
    if not value:
        return None
    if not _HEX_KEY.fullmatch(value):
        raise _fail(
            "POLYMARKET_PRIVATE_KEY", "must be 0x followed by 64 hexadecimal digits (value not shown)"
        )
    return Secret(value)


def _credentials(env: Mapping[str, str]) -> VenueCredentials | None:
    names = ("POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_API_PASSPHRASE")
    given = [env.get(n) or "" for n in names]
    if not any(given):
        return None
    missing = [n for n, v in zip(names, given, strict=True) if not v]
    if missing:
        raise _fail(
            missing[0], "must be set together with " + " and ".join(n for n in names if n != missing[0])
        )
    return VenueCredentials(Secret(given[0]), Secret(given[1]), Secret(given[2]))


def _choice_int(env: Mapping[str, str], variable: str, default: str, choices: tuple[int, ...]) -> int:
    value = env.get(variable) or default
    if not _DIGITS.fullmatch(value) or int(value) not in choices:
        shown = f"{choices[0]} to {choices[-1]}" if len(choices) > 5 else ", ".join(map(str, choices))
        raise _fail(variable, f"must be one of {shown}, got {value!r}")
    return int(value)


def _address(env: Mapping[str, str], variable: str) -> str | None:
    value = env.get(variable)
    if not value:
        return None
    if not _ADDRESS.fullmatch(value):
        raise _fail(variable, "must be an address: 0x followed by 40 hexadecimal digits")
    return value


def _admin_tokens(value: str) -> tuple[AdminToken, ...]:
    tokens = []
    for i, entry in enumerate(e.strip() for e in value.split(",")):
        if not entry:
            continue
        parts = entry.split(":", 2)
        if (
            len(parts) != 3
            or not _TOKEN_NAME.fullmatch(parts[0])
            or parts[1] not in ROLES
            or len(parts[2]) < 16
        ):
            raise _fail(
                "HEDGING_ADMIN_TOKENS",
                f"entry {i + 1} must be NAME:ROLE:TOKEN with ROLE viewer or admin and a token of 16 or more "
                "characters (token not shown)",
            )
        tokens.append(AdminToken(parts[0], parts[1], Secret(parts[2])))
    return tuple(tokens)


def _flag(env: Mapping[str, str], variable: str) -> bool:
    value = (env.get(variable) or "0").lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise _fail(variable, f"must be 1 or 0, got {value!r}")
    return value in ("1", "true", "yes")


def _positive_decimal(env: Mapping[str, str], variable: str, default: str) -> Decimal:
    value = env.get(variable) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _fail(variable, f"must be a positive number, got {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise _fail(variable, f"must be a positive number, got {value!r}")
    return number


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _fail("HEDGING_LOG_LEVEL", f"must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _log_format(value: str) -> str:
    if value.lower() not in LOG_FORMATS:
        raise _fail("HEDGING_LOG_FORMAT", f"must be text or json, got {value!r}")
    return value.lower()


LOG_FORMATS = ("text", "json")
WORKER_COUNTS = tuple(range(1, 65))
# `hedging up` runs two workers unless told otherwise: the demo then shows the production shape (one
# port, several processes), and more would only add start-up time and connections on a laptop that
# also runs the simulator, the gateway and PostgreSQL.
DEFAULT_WORKERS = {"serve": 1, "up": 2}


def workers_of(command: str, settings: Settings, option: int | None) -> int:
    """How many server processes `command` runs: --workers, else HEDGING_WORKERS, else its default."""
    return option or settings.workers or DEFAULT_WORKERS[command]


@dataclass(frozen=True)
class Variable:
    """One environment variable: what it means, its default and the commands that read it."""

    name: str
    default: str
    meaning: str
    commands: tuple[str, ...]
    secret: bool = False


_SERVICE = ("serve", "up")
# Who needs the wallet: the service, `doctor`, and the gateway (it runs the doctor's checks before
# it lets `mode` become live).
_WALLET = ("serve", "up", "doctor", "gateway")
_ALL = ("serve", "gateway", "migrate", "check-totals", "sim", "up", "doctor")

# Shown by each command's --help (defaults only: a help text never shows a configured value).
VARIABLES = (
    Variable(
        "DATABASE_URL",
        "none (up: its own PostgreSQL in ./hedging-data/postgres)",
        "postgresql://user@host:5432/db",
        ("serve", "gateway", "migrate", "check-totals", "up", "doctor"),
    ),
    Variable(
        "HEDGING_GRPC_LISTEN", Settings.grpc_listen, "gRPC listen address (port 0: any free port)", _SERVICE
    ),
    Variable(
        "HEDGING_GATEWAY_LISTEN", Settings.gateway_listen, "GraphQL gateway listen address", ("gateway", "up")
    ),
    Variable("HEDGING_SIM_LISTEN", Settings.sim_listen, "simulator listen address", ("sim", "up")),
    Variable(
        "HEDGING_METRICS_LISTEN", Settings.metrics_listen, "Prometheus /metrics listen address", _SERVICE
    ),
    Variable("POLYMARKET_CLOB_URL", "none (up: the simulator)", "CLOB base URL", _WALLET),
    Variable(
        "POLYMARKET_GEOBLOCK_URL",
        Settings.geoblock_url + " (up: the simulator's)",
        "where the region's geoblock status is read",
        _WALLET,
    ),
    Variable(
        "POLYMARKET_GAMMA_URL",
        "the SDK's (up: the simulator's)",
        "Gamma API base URL, for redemptions and merges",
        _WALLET,
    ),
    Variable(
        "POLYMARKET_RPC_URL",
        "the SDK's (up: the simulator's)",
        "Polygon JSON-RPC URL, for redemptions and merges",
        _WALLET,
    ),
    Variable("POLYMARKET_CHAIN_ID", str(Settings.chain_id), "137 (Polygon) or 80002 (Amoy)", _WALLET),
    Variable(
        "POLYMARKET_PRIVATE_KEY", "none (up: a throwaway key)", "signs hedge orders", _WALLET, secret=True
    ),
    Variable(
        "POLYMARKET_API_KEY",
        "derived from the key",
        "L2 API key (with SECRET and PASSPHRASE)",
        _WALLET,
        secret=True,
    ),
    Variable("POLYMARKET_API_SECRET", "derived from the key", "L2 API secret", _WALLET, secret=True),
    Variable("POLYMARKET_API_PASSPHRASE", "derived from the key", "L2 API passphrase", _WALLET, secret=True),
    Variable(
        "POLYMARKET_SIGNATURE_TYPE", str(Settings.signature_type), "0 EOA, 1 proxy, 2 Gnosis safe", _WALLET
    ),
    Variable("POLYMARKET_FUNDER", "the key's address", "the wallet that holds the funds", _WALLET),
    Variable(
        "HEDGING_ADMIN_TOKENS", "none", "gateway tokens NAME:ROLE:TOKEN,...", ("gateway", "up"), secret=True
    ),
    Variable("HEDGING_DEV_MODE", "0", "1: anonymous gateway access and GraphiQL", ("gateway", "up")),
    Variable(
        "HEDGING_VENUE_TIMEOUT_SECONDS",
        str(Settings.venue_timeout),
        "timeout of each venue request",
        ("serve", "gateway", "up", "doctor"),
    ),
    Variable(
        "HEDGING_DB_THREADS",
        str(Settings.db_threads),
        "database threads (and connections)",
        ("serve", "gateway", "up"),
    ),
    Variable(
        "HEDGING_WORKERS",
        "1 (up: 2)",
        "server processes sharing the gRPC port (--workers); worker i serves metrics on port + i",
        _SERVICE,
    ),
    Variable("HEDGING_LOG_LEVEL", Settings.log_level, "DEBUG, INFO, WARNING or ERROR", _ALL),
    Variable("HEDGING_LOG_FORMAT", Settings.log_format, "text, or json: one JSON object per line", _ALL),
)


def variables_of(command: str) -> tuple[Variable, ...]:
    """The environment variables `command` reads, in the order of `VARIABLES`."""
    return tuple(v for v in VARIABLES if command in v.commands)
