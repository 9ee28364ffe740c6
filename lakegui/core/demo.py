"""The embedded demo lake: an S3-compatible endpoint on loopback, seeded with a small,
deterministic sample of the US equity data lake, so the app works with no AWS account.
"""

from __future__ import annotations

import io
import json
import socket
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .connection import Connection, ConnectionProfile, StaticCredentials
from .layouts import DAILY_TICKS, FUNDAMENTALS, MINUTE_TICKS, REFERENCE

DEMO_BUCKET = "us-equity-datalake"
DEMO_REGION = "us-east-1"
DEMO_SOURCE = "lakegui-demo"
# The demo endpoint accepts any credentials; these only exist so that other
# tools (aws cli, s5cmd) have something to sign with. They grant nothing.
DEMO_CREDENTIALS = StaticCredentials("lakegui-demo", "lakegui-demo-key")

# symbol: (name, sector, exchange, starting price, typical daily volume)
SYMBOLS = {
    "AAPL": ("Apple Inc.", "Technology", "NASDAQ", 178.0, 60e6),
    "MSFT": ("Microsoft Corp.", "Technology", "NASDAQ", 335.0, 25e6),
    "AMZN": ("Amazon.com Inc.", "Consumer Discretionary", "NASDAQ", 165.0, 45e6),
    "GOOGL": ("Alphabet Inc. Class A", "Communication Services", "NASDAQ", 145.0, 30e6),
    "META": ("Meta Platforms Inc.", "Communication Services", "NASDAQ", 335.0, 20e6),
    "NVDA": ("NVIDIA Corp.", "Technology", "NASDAQ", 30.0, 300e6),
    "TSLA": ("Tesla Inc.", "Consumer Discretionary", "NASDAQ", 390.0, 90e6),
    "JPM": ("JPMorgan Chase & Co.", "Financials", "NYSE", 158.0, 10e6),
    "V": ("Visa Inc. Class A", "Financials", "NYSE", 210.0, 7e6),
    "XOM": ("Exxon Mobil Corp.", "Energy", "NYSE", 61.0, 20e6),
    "JNJ": ("Johnson & Johnson", "Health Care", "NYSE", 177.0, 7e6),
    "WMT": ("Walmart Inc.", "Consumer Staples", "NYSE", 51.0, 20e6),
}
YEARS = (2020, 2021, 2022, 2023, 2024)
FUNDAMENTAL_YEARS = (2022, 2023, 2024)
# Daily files a backfill has not delivered yet, so the coverage view has gaps to show.
DAILY_GAPS = {("META", 2020), ("TSLA", 2020), ("V", 2021), ("V", 2022), ("XOM", 2024)}
MINUTE_SYMBOLS = ("AAPL", "MSFT", "NVDA")
MINUTE_DAYS = (date(2024, 12, 2), date(2024, 12, 3), date(2024, 12, 4))
_HOLIDAYS = {(1, 1), (7, 4), (12, 25)}


@dataclass(frozen=True)
class DemoObject:
    key: str
    body: bytes
    content_type: str
    metadata: dict[str, str]


def _rng(*parts) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(":".join(map(str, parts)).encode()))


def trading_days(year: int) -> list[date]:
    """Weekdays of `year` less the fixed-date market holidays."""
    d, out = date(year, 1, 1), []
    while d.year == year:
        if d.weekday() < 5 and (d.month, d.day) not in _HOLIDAYS:
            out.append(d)
        d += timedelta(days=1)
    return out


def _ohlcv(rng: np.random.Generator, n: int, start: float, volume: float, vol: float):
    close = start * np.exp(np.cumsum(rng.normal(0.0003, vol, n)))
    open_ = np.concatenate([[start], close[:-1]]) * (1 + rng.normal(0, vol / 4, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
    vols = (volume * rng.lognormal(0, 0.3, n)).astype(np.int64)
    return [np.round(a, 4) for a in (open_, high, low, close)] + [vols]


def _start_price(symbol: str, year: int) -> float:
    # Each year continues roughly where the symbol's trend would be, deterministically.
    base = SYMBOLS[symbol][3]
    return float(base * (1.12 ** (year - 2022)) * (0.9 + 0.2 * _rng(symbol, year, "p").random()))


def daily_table(symbol: str, year: int) -> pa.Table:
    days = trading_days(year)
    o, h, l, c, v = _ohlcv(_rng(symbol, year), len(days), _start_price(symbol, year),
                           SYMBOLS[symbol][4], 0.018)
    return pa.table({"date": pa.array(days, pa.date32()), "open": o, "high": h, "low": l,
                     "close": c, "volume": v})


def minute_table(symbol: str, day: date) -> pa.Table:
    start = datetime(day.year, day.month, day.day, 14, 30, tzinfo=timezone.utc)  # 09:30 New York
    times = [start + timedelta(minutes=i) for i in range(390)]
    o, h, l, c, v = _ohlcv(_rng(symbol, day), 390, _start_price(symbol, day.year) * 1.3,
                           SYMBOLS[symbol][4] / 390, 0.0012)
    ts = pa.array(times, pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz="America/New_York"))
    return pa.table({"timestamp": ts, "open": o, "high": h, "low": l, "close": c, "volume": v})


def fundamentals(symbol: str, year: int, quarter: int) -> dict:
    rng = _rng(symbol, year, quarter, "f")
    name, sector, _, price, volume = SYMBOLS[symbol]
    shares = int(volume * 250)
    revenue = int(price * shares * rng.uniform(0.02, 0.08))
    net_income = int(revenue * rng.uniform(0.05, 0.3))
    period_end = date(year, quarter * 3, 30 if quarter in (2, 3) else 31)
    return {
        "symbol": symbol,
        "name": name,
        "sector": sector,
        "fiscal_year": year,
        "quarter": quarter,
        "period_end": period_end.isoformat(),
        "currency": "USD",
        "income_statement": {"revenue": revenue, "net_income": net_income,
                             "eps_diluted": round(net_income / shares, 2)},
        "balance_sheet": {"total_assets": revenue * 6, "total_liabilities": int(revenue * 3.5),
                          "shares_outstanding": shares},
        "filing": {"form": "10-K" if quarter == 4 else "10-Q",
                   "filed": (period_end + timedelta(days=35)).isoformat()},
    }


def tickers_table() -> pa.Table:
    rows = [(s, *v[:3]) for s, v in SYMBOLS.items()]
    return pa.table({"symbol": [r[0] for r in rows], "name": [r[1] for r in rows],
                     "sector": [r[2] for r in rows], "exchange": [r[3] for r in rows]})


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def demo_objects() -> Iterator[DemoObject]:
    """Every object of the demo lake, built deterministically."""
    parquet = "application/vnd.apache.parquet"
    for symbol in SYMBOLS:
        for year in YEARS:
            if (symbol, year) not in DAILY_GAPS:
                yield DemoObject(DAILY_TICKS.key(symbol=symbol, year=year), _parquet(daily_table(symbol, year)),
                                 parquet, DAILY_TICKS.metadata(DEMO_SOURCE, symbol=symbol, year=year))
            if year not in FUNDAMENTAL_YEARS:
                continue
            for q in (1, 2, 3, 4):
                body = json.dumps(fundamentals(symbol, year, q), indent=2).encode()
                yield DemoObject(FUNDAMENTALS.key(symbol=symbol, year=year, quarter=q), body,
                                 "application/json",
                                 FUNDAMENTALS.metadata(DEMO_SOURCE, symbol=symbol, year=year, quarter=q))
    for symbol in MINUTE_SYMBOLS:
        for day in MINUTE_DAYS:
            f = dict(symbol=symbol, year=day.year, month=f"{day.month:02d}", day=f"{day.day:02d}")
            yield DemoObject(MINUTE_TICKS.key(**f), _parquet(minute_table(symbol, day)), parquet,
                             MINUTE_TICKS.metadata(DEMO_SOURCE, **f))
    tickers = tickers_table()
    yield DemoObject(REFERENCE.key(name="tickers.parquet"), _parquet(tickers), parquet,
                     REFERENCE.metadata(DEMO_SOURCE, name="tickers.parquet"))
    csv = "symbol,name,sector,exchange\n" + "".join(
        f'{s},"{v[0]}",{v[1]},{v[2]}\n' for s, v in SYMBOLS.items())
    yield DemoObject(REFERENCE.key(name="tickers.csv"), csv.encode(), "text/csv",
                     REFERENCE.metadata(DEMO_SOURCE, name="tickers.csv"))
    yield DemoObject("README.txt", _README.encode(), "text/plain; charset=utf-8", {"source": DEMO_SOURCE})


_README = f"""US equity data lake (lakegui demo sample; synthetic prices, not market data)

Layout:
  {DAILY_TICKS.key_template}    daily OHLCV, one file per symbol-year
  {MINUTE_TICKS.key_template}
  {FUNDAMENTALS.key_template}    quarterly fundamentals
  data/reference/tickers.parquet, tickers.csv    the ticker table

Object metadata carries lineage: symbol, year, data-type, source.
"""


@dataclass(frozen=True)
class SeedReport:
    objects: int
    bytes: int
    seconds: float


def seed(client, bucket: str = DEMO_BUCKET, workers: int = 8) -> SeedReport:
    """Create `bucket` if needed and upload the demo lake into it."""
    t0 = time.perf_counter()
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    objs = list(demo_objects())

    def put(o: DemoObject) -> None:
        client.put_object(Bucket=bucket, Key=o.key, Body=o.body, ContentType=o.content_type,
                          Metadata=o.metadata)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-seed") as pool:
        list(pool.map(put, objs))
    return SeedReport(len(objs), sum(len(o.body) for o in objs), time.perf_counter() - t0)


def _check_port_free(host: str, port: int) -> None:
    # ThreadedMotoServer would wait forever if its thread failed to bind, so bind-test first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise OSError(f"Cannot serve the demo lake on {host}:{port}: {exc.strerror}") from None


class DemoServer:
    """moto's ThreadedMotoServer on loopback, holding the seeded demo lake."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed_data: bool = True):
        self.host = host
        self.port = port
        self.seed_data = seed_data
        self.report: SeedReport | None = None
        self._server = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def profile(self) -> ConnectionProfile:
        return ConnectionProfile(name="demo", endpoint_url=self.endpoint_url, region=DEMO_REGION,
                                 bucket=DEMO_BUCKET, addressing_style="path")

    def connection(self, concurrency: int = 20) -> Connection:
        return Connection(self.profile, credentials=DEMO_CREDENTIALS, concurrency=concurrency)

    def start(self) -> "DemoServer":
        import logging

        from moto.server import ThreadedMotoServer  # heavy import, only when asked for

        # werkzeug logs every request to stderr; the demo should be quiet.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        if self.port:
            _check_port_free(self.host, self.port)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        if self.seed_data:
            self.report = seed(self.connection().client("transfer"))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "DemoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
