"""Build generator/pangeo_himat/data/instances.json, the instance catalog the fit model uses.

Instance facts come from moto, which ships AWS's DescribeInstanceTypes records
(moto/ec2/resources/instance_types.json.gz): every type of those records but the Mac instances.
Prices from scripts/prices-on-demand.csv, whose header names its source and date; it covers
the common families, and a type it does not price is listed without a price.
Run with moto installed (`pip install '.[build-catalog]'`):

    python scripts/build_catalog.py          # rewrite the catalog
    python scripts/build_catalog.py --check  # exit 1 if the shipped file differs
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "generator" / "pangeo_himat" / "data" / "instances.json"
PRICES = ROOT / "scripts" / "prices-on-demand.csv"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
# Mac instances run only on EC2 Dedicated Hosts, which EKS nodegroups (Auto Scaling groups of
# shared-tenancy instances) cannot use: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-mac-instances.html
MAC_ARCHITECTURES = ("arm64_mac", "x86_64_mac")
MOTO_RECORDS = "ec2/resources/instance_types.json.gz"


def moto_records() -> dict[str, dict]:
    """AWS's DescribeInstanceTypes records, as moto ships them."""
    with resources.files("moto").joinpath(MOTO_RECORDS).open("rb") as handle:
        return json.loads(gzip.decompress(handle.read()))


def read_prices() -> tuple[dict[str, dict[str, float]], str, str]:
    """Prices by type and region, and the source and date from the CSV's header comments."""
    header: dict[str, str] = {}
    prices: dict[str, dict[str, float]] = {}
    with PRICES.open() as handle:
        lines = []
        for line in handle:
            if line.startswith("#"):
                key, _, value = line[1:].strip().partition(":")
                if key in ("source", "date"):
                    header[key] = value.strip()
            else:
                lines.append(line)
    for row in csv.DictReader(lines):
        prices.setdefault(row["instance_type"], {})[row["region"]] = float(row["usd_per_hour"])
    return prices, header["source"], header["date"]


def wanted(record: dict) -> bool:
    """Every type an EKS node can be (all but the Mac instances)."""
    architectures = record["ProcessorInfo"]["SupportedArchitectures"]
    return not set(architectures) & set(MAC_ARCHITECTURES)


def architecture(record: dict) -> str:
    """x86_64 or arm64 (a few old types list i386 first; EKS runs them as x86_64)."""
    architectures = record["ProcessorInfo"]["SupportedArchitectures"]
    return "x86_64" if "x86_64" in architectures else architectures[0]


def gpus(record: dict) -> int:
    """GPUs of the type (GpuInfo.Gpus[].Count), 0 without GpuInfo."""
    return sum(gpu["Count"] for gpu in record.get("GpuInfo", {}).get("Gpus", []))


def entry(record: dict, prices: dict[str, float]) -> dict:
    """The few figures the fit model and cost need, from one DescribeInstanceTypes record."""
    network = record["NetworkInfo"]
    return {
        "vcpu": record["VCpuInfo"]["DefaultVCpus"],
        "memory_mib": record["MemoryInfo"]["SizeInMiB"],
        "max_enis": network["MaximumNetworkInterfaces"],
        "ipv4_per_eni": network["Ipv4AddressesPerInterface"],
        "architecture": architecture(record),
        "gpus": gpus(record),
        "on_demand_usd_per_hour": {
            region: prices[region] for region in REGIONS if region in prices
        },
    }


def build() -> str:
    records = moto_records()
    prices, source, date = read_prices()
    types = {}
    unknown = sorted(set(prices) - set(records))
    if unknown:
        raise SystemExit(f"{PRICES.name} prices types moto does not know: {', '.join(unknown)}")
    for name in sorted(records):
        if wanted(records[name]):
            # A type without a price is listed all the same: `himat cost` says how to give one.
            types[name] = entry(records[name], prices.get(name, {}))
    catalog = {
        "generated_by": "scripts/build_catalog.py",
        "instance_source": f"moto {metadata.version('moto')} moto/{MOTO_RECORDS}",
        "prices": {"date": date, "source": source},
        "instance_types": types,
    }
    return json.dumps(catalog, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Compare, do not write.")
    args = parser.parse_args()
    text = build()
    if args.check:
        return 0 if CATALOG.read_text() == text else 1
    CATALOG.write_text(text)
    print(f"wrote {CATALOG.relative_to(ROOT)}: {text.count('vcpu')} instance types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
