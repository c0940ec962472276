"""A real S3-compatible server on loopback: moto's server mode, as a subprocess.

`python -m moto.server` (the `moto[server]` extra, from PyPI) of the interpreter that runs the
tests, on a free port of 127.0.0.1, in a temporary folder (its working directory and log);
its buckets live in its memory and vanish with it. It speaks the S3 protocol over HTTP as
AWS, MinIO or Ceph do, and enforces object ACLs: an anonymous GET of a private object is
refused (403). Without moto the test is skipped loudly, except under CI, where it fails (CI
installs the dev dependencies, moto among them).

`bucket_create()` makes a fresh bucket; `client()` is a boto3 client that talks to the server
as the application does; `storage_options()` the OPTIONS of our S3 storage for a bucket.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests.services.common import free_port, missing

START_TIMEOUT = 30.0
ACCESS_KEY = "atiende-test-key"
SECRET_KEY = "atiende-test-secret"
REGION = "us-east-1"


def moto_required() -> None:
    """moto's server mode needs moto and flask (`moto[server]`), and boto3 to talk to it."""
    absent = [name for name in ("moto", "flask", "boto3") if importlib.util.find_spec(name) is None]
    if absent:
        missing(
            f"the Python package(s) {', '.join(absent)} are not installed here "
            "(dev dependency `moto[server]`)"
        )


class S3Server:
    """moto's S3 on http://127.0.0.1:`port`; `start()` it, `stop()` it."""

    def __init__(self) -> None:
        moto_required()
        self.host = "127.0.0.1"
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="atiende-s3-"))
        self.port = free_port()
        log = self.folder / "moto.log"
        env = {
            **os.environ,
            "MOTO_PORT": str(self.port),
            # moto may otherwise look for a Docker daemon or the network for some services.
            "MOTO_DOCKER_NETWORK_MODE": "none",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            cwd=self.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                self.stop()
                raise RuntimeError(f"moto's S3 server did not start on port {self.port}:\n{text}")
            time.sleep(0.05)  # waiting for a process to listen, not for time to pass

    def _answers(self) -> bool:
        """Whether the server answers S3's ListBuckets (any HTTP answer will do)."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=1) as answer:  # noqa: S310
                return int(answer.status) < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # --- what the tests use --------------------------------------------------------------------

    def client(self) -> Any:
        """A boto3 S3 client with the credentials the application uses."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def bucket_create(self) -> str:
        """A new, empty, private bucket; its name."""
        name = f"atiende-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object's key in `bucket`, sorted."""
        answer = self.client().list_objects_v2(Bucket=bucket)
        return sorted(str(item["Key"]) for item in answer.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def anonymous_get(self, bucket: str, key: str) -> int:
        """The HTTP status of a GET of the object's URL without credentials, as a stranger
        on the internet would try it (path style)."""
        url = f"{self.endpoint_url}/{bucket}/{key}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
