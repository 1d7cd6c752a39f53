"""Build generator/pangeo_himat/data/regions.json: the AWS regions and their zone names.

Regions come from botocore's endpoint data (botocore/data/endpoints.json, `partitions[].regions`),
which AWS maintains for every SDK; zone names from moto's zone tables
(moto/ec2/models/availability_zones_and_regions.py, `RegionsAndZonesBackend.zones`), which mirror
`aws ec2 describe-availability-zones`. Only zones of type availability-zone are kept: EKS places
nodes in availability zones, not in Local or Wavelength Zones. Run with botocore and moto
installed (`pip install '.[build-catalog]'`):

    python scripts/build_regions.py          # rewrite the data file
    python scripts/build_regions.py --check  # exit 1 if the shipped file differs
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata, resources
from pathlib import Path

from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ROOT / "generator" / "pangeo_himat" / "data" / "regions.json"
ENDPOINTS = "data/endpoints.json"


def botocore_regions() -> dict[str, dict[str, str]]:
    """Region name -> partition and description, from botocore's endpoint data."""
    with resources.files("botocore").joinpath(ENDPOINTS).open() as handle:
        endpoints = json.load(handle)
    return {
        name: {"partition": partition["partition"], "description": region.get("description", "")}
        for partition in endpoints["partitions"]
        for name, region in partition["regions"].items()
    }


def moto_zones() -> dict[str, list[str]]:
    """Region name -> its availability zone names, from moto's tables."""
    return {
        region: sorted(z.name for z in zones if z.zone_type == "availability-zone")
        for region, zones in RegionsAndZonesBackend.zones.items()
    }


def build() -> str:
    zones = moto_zones()
    regions = {
        name: {**info, "zones": zones.get(name, [])}
        for name, info in sorted(botocore_regions().items())
    }
    data = {
        "generated_by": "scripts/build_regions.py",
        "region_source": f"botocore {metadata.version('botocore')} botocore/{ENDPOINTS}",
        "zone_source": (
            f"moto {metadata.version('moto')} moto/ec2/models/availability_zones_and_regions.py"
        ),
        "regions": regions,
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Compare, do not write.")
    args = parser.parse_args()
    text = build()
    if args.check:
        return 0 if REGIONS.read_text() == text else 1
    REGIONS.write_text(text)
    print(f"wrote {REGIONS.relative_to(ROOT)}: {text.count('partition')} regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
