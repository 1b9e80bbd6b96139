"""The price table `streamcensus cost` applies to what this installation measured.

One declaration, `PriceTable`: its defaults are the published list prices of one cloud
region, Google Cloud europe-west1 (Belgium, the region the write-up ran in), for a
deployment shaped like the write-up's: the collector as a Cloud Run service woken every
5 minutes by Cloud Scheduler, the daily load as a Cloud Run job, the lake and the
warehouse file on Cloud Storage, and the dashboard exported as static files to a static
host. A TOML file (the `cost_prices` setting, or `cost --prices FILE`) overrides any
subset of the fields, e.g. another region's prices:

    as_of = 2026-11-29
    [storage]
    gib_month = 0.023
    [loader]
    vcpu = 4

Prices are in USD; a GiB is 2^30 bytes, as the providers bill storage and traffic.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streamcensus.errors import UserError

CLOUD_RUN = "https://cloud.google.com/run/pricing"
CLOUD_STORAGE = "https://cloud.google.com/storage/pricing"
CLOUD_SCHEDULER = "https://cloud.google.com/scheduler/pricing"
NETWORK = "https://cloud.google.com/vpc/network-pricing"
FIREBASE_HOSTING = "https://firebase.google.com/pricing"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CollectorPrices(_Part):
    """A Cloud Run service billed per request (CPU only while a request runs), Tier 1."""

    service: str = "Cloud Run service (request-based billing)"
    vcpu: float = Field(default=1.0, gt=0, description="vCPUs allocated to the collector")
    memory_gib: float = Field(default=0.5, gt=0, description="memory allocated, GiB")
    vcpu_second: float = Field(default=0.000024, ge=0)
    gib_second: float = Field(default=0.0000025, ge=0)
    per_million_requests: float = Field(default=0.40, ge=0)
    free_vcpu_seconds: float = Field(default=180_000, ge=0)
    free_gib_seconds: float = Field(default=360_000, ge=0)
    free_requests: float = Field(default=2_000_000, ge=0)
    increment_seconds: float = Field(
        default=0.1, ge=0, description="billed time is rounded up to this"
    )
    source: str = CLOUD_RUN


class LoaderPrices(_Part):
    """A Cloud Run job (instance-based billing), Tier 1: the daily load and transform."""

    service: str = "Cloud Run job"
    vcpu: float = Field(default=2.0, gt=0)
    memory_gib: float = Field(default=4.0, gt=0)
    vcpu_second: float = Field(default=0.000018, ge=0)
    gib_second: float = Field(default=0.000002, ge=0)
    free_vcpu_seconds: float = Field(default=240_000, ge=0)
    free_gib_seconds: float = Field(default=450_000, ge=0)
    source: str = CLOUD_RUN


class SchedulerPrices(_Part):
    """Cloud Scheduler: one job wakes the collector, one starts the daily load."""

    service: str = "Cloud Scheduler"
    jobs: int = Field(default=2, ge=0)
    per_job_month: float = Field(default=0.10, ge=0)
    free_jobs: int = Field(default=3, ge=0, description="per billing account")
    source: str = CLOUD_SCHEDULER


class StoragePrices(_Part):
    """Cloud Storage, Standard class, regional bucket (no free tier outside US regions)."""

    service: str = "Cloud Storage Standard, regional"
    gib_month: float = Field(default=0.020, ge=0)
    class_a_per_10k: float = Field(default=0.05, ge=0, description="writes and listings")
    class_b_per_10k: float = Field(default=0.004, ge=0, description="reads")
    free_gib_month: float = Field(default=0.0, ge=0)
    source: str = CLOUD_STORAGE


class NetworkPrices(_Part):
    """Internet traffic, Premium Tier: ingress is free, egress to the internet is billed."""

    service: str = "Internet data transfer (Premium Tier)"
    ingress_gib: float = Field(default=0.0, ge=0)
    egress_gib: float = Field(default=0.12, ge=0, description="first TiB of the month, worldwide")
    source: str = NETWORK


class DashboardPrices(_Part):
    """The dashboard as a static export on a static host (the write-up's Firebase Hosting).

    Its traffic is not measured by streamcensus: `gib_per_month` is an assumption (0 by
    default), shown as such.
    """

    service: str = "Firebase Hosting (static export)"
    gib_per_month: float = Field(
        default=0.0, ge=0, description="assumed dashboard traffic, GiB/month"
    )
    gib_transfer: float = Field(default=0.15, ge=0)
    free_gib_transfer: float = Field(default=10.0, ge=0)
    source: str = FIREBASE_HOSTING


class PriceTable(BaseModel):
    """Unit prices and the shape of the deployment they price."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "Google Cloud, europe-west1 (Belgium), list prices"
    currency: str = "USD"
    as_of: dt.date = dt.date(2026, 11, 29)
    note: str = (
        "published list prices, taxes excluded, free tiers as listed per billing account; "
        "check the sources before relying on a figure"
    )
    collector: CollectorPrices = CollectorPrices()
    loader: LoaderPrices = LoaderPrices()
    scheduler: SchedulerPrices = SchedulerPrices()
    storage: StoragePrices = StoragePrices()
    network: NetworkPrices = NetworkPrices()
    dashboard: DashboardPrices = DashboardPrices()

    def sources(self) -> dict[str, str]:
        """Each part's service and where its prices are published."""
        parts = (
            self.collector,
            self.loader,
            self.scheduler,
            self.storage,
            self.network,
            self.dashboard,
        )
        return {p.service: p.source for p in parts}


def load_prices(path: Path | None) -> PriceTable:
    """The default table, overridden by the TOML file at `path` when given."""
    if path is None:
        return PriceTable()
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except FileNotFoundError:
        raise UserError(f"no price table at {path}: check --prices or cost_prices") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the price table {path}: {exc}") from None
    try:
        return PriceTable.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "table"
        raise UserError(f"price table {path}: {where}: {err['msg']}") from None
