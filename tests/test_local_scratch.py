"""The example notebook in local mode against an S3 scratch bucket: moto's S3 server on
127.0.0.1 plays the bucket, the notebook runs unchanged in a kernel of himat's JupyterLab, and
the workers run in another working directory than Jupyter, as on the cluster, where they do
not see Jupyter's volume at all."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from conftest import write_settings
from test_local import child_with, run_example_notebook, start_himat, stop_cleanly

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BUCKET = "himat-scratch"
CLUSTER = "glaciers"


@pytest.fixture
def s3_endpoint():
    """moto's S3 server on a free loopback port (moto/server.py, ThreadedMotoServer)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_example_notebook_writes_its_zarr_store_to_the_scratch_bucket(tmp_path, s3_endpoint):
    import boto3

    aws = {
        # Every AWS SDK here (botocore, and s3fs through aiobotocore) reads the endpoint from
        # AWS_ENDPOINT_URL (botocore/configprovider.py, 'endpoint_url'); the keys are moto's.
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **_keys(aws))
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws
    write_settings(
        tmp_path,
        {"cluster.name": CLUSTER, "data.scratch": BUCKET, "idle.workers_after": None},
    )
    process, printed = start_himat(tmp_path, 2, "-f", "settings.yaml", env=env)
    try:
        stack = {**printed, "process": process}
        notebooks = (tmp_path / "notebooks").resolve()
        worker = child_with(process, "--name", "worker-0")
        jupyter = child_with(process, "-m", "jupyterlab")
        assert Path(jupyter.cwd()) == notebooks
        assert Path(worker.cwd()) != notebooks
        text, _ = run_example_notebook(stack)
        workers = [p for p in psutil.Process(process.pid).children(recursive=True)]
        assert all(notebooks not in Path(p.cwd()).parents for p in workers if p != jupyter)
    finally:
        stop_cleanly(process)

    store = f"s3://{BUCKET}/{CLUSTER}/himat-example/dh.zarr"
    assert f"wrote and read back {store}: {{'year': 24, 'y': 600, 'x': 600}}" in text
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{CLUSTER}/himat-example/dh.zarr/")
    keys = {
        item["Key"].removeprefix(f"{CLUSTER}/himat-example/dh.zarr/") for item in listed["Contents"]
    }
    assert "zarr.json" in keys
    # the chunks the workers wrote: 24 years x 600 x 600 in (6, 300, 300) blocks
    assert len([key for key in keys if key.startswith("dh/c/")]) == 4 * 2 * 2
    # and nothing on this machine's disk, where a worker on the cluster could not write
    assert list(tmp_path.rglob("dh.zarr")) == []


def _keys(aws: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": aws["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": aws["AWS_SECRET_ACCESS_KEY"],
        "region_name": aws["AWS_DEFAULT_REGION"],
    }
