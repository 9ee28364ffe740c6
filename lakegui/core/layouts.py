"""Key layouts of the US equity data lake (see the project's seeds).

Each template turns fields (symbol, year, ...) into an object key and names the
lineage metadata that objects under it carry.
"""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class LayoutTemplate:
    name: str
    key_template: str
    data_type: str
    local_pattern: str = ""

    @property
    def field_names(self) -> list[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.key_template) if f]

    def key(self, **fields) -> str:
        return self.key_template.format(**fields)

    def metadata(self, source: str, **fields) -> dict[str, str]:
        """Lineage metadata for an object: its fields plus data-type and source."""
        meta = {k: str(v) for k, v in fields.items() if k in self.field_names}
        meta.update({"data-type": self.data_type, "source": source})
        return meta


DAILY_TICKS = LayoutTemplate("daily-ticks", "data/ticks/daily/{symbol}/{year}/ticks.parquet",
                             "daily-ticks", "{symbol}_{year}.parquet")
MINUTE_TICKS = LayoutTemplate("minute-ticks",
                              "data/ticks/minute/{symbol}/{year}/{month}/{day}/ticks.parquet",
                              "minute-ticks", "{symbol}_{year}{month}{day}.parquet")
FUNDAMENTALS = LayoutTemplate("fundamentals", "data/fundamental/{symbol}/{year}/Q{quarter}.json",
                              "fundamentals", "{symbol}_{year}_Q{quarter}.json")
REFERENCE = LayoutTemplate("reference", "data/reference/{name}", "reference", "{name}")

BUILTIN_LAYOUTS = {t.name: t for t in (DAILY_TICKS, MINUTE_TICKS, FUNDAMENTALS, REFERENCE)}
