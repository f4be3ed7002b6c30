"""OpenAIBackend against a real local HTTP server started by the test (loopback only)."""
import base64
import io
import json
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

from coldstart_nb.stores import RecordStore
from coldstart_nb.generate import GenConfig, OpenAIBackend, generate, requests_from_samples
from coldstart_nb.synth import make_split
from conftest import local_server, send_json

SECRET = "sk-test-not-a-real-key-1234"


class Handler(BaseHTTPRequestHandler):
    seen = []          # (auth header, payload) per request
    fail_first = [0]   # answer 503 this many times first
    max_n = [None]     # emulate servers that ignore n (return at most this many choices)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.seen.append((self.headers.get("Authorization"), body))
        if self.path != "/v1/chat/completions":
            self.send_response(404); self.end_headers(); return
        if Handler.fail_first[0] > 0:
            Handler.fail_first[0] -= 1; self.send_response(503); self.end_headers(); self.wfile.write(b"busy"); return
        user = body["messages"][-1]["content"]
        sizes = []
        for part in user:
            if part["type"] == "image_url":
                b64 = part["image_url"]["url"].split(",", 1)[1]
                sizes.append("x".join(map(str, Image.open(io.BytesIO(base64.b64decode(b64))).size)))
        text = next(p["text"] for p in user if p["type"] == "text")
        n = body.get("n", 1) if Handler.max_n[0] is None else min(body.get("n", 1), Handler.max_n[0])
        choices = [{"index": i, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": f"{'|'.join(sizes)} {len(text)} seed={body['seed']} #{i} \\boxed{{1}}"}}
                   for i in range(n)]
        send_json(self, {"id": "x", "object": "chat.completion", "choices": choices})

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    Handler.seen.clear(); Handler.fail_first[0] = 0; Handler.max_n[0] = None
    with local_server(Handler) as base:
        yield base


def test_images_inline_key_from_env_n_samples(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MY_TEACHER_KEY", SECRET)
    samples = make_split("test", 1, progress=False)[:5]
    backend = OpenAIBackend(server, "teacher", api_key_env="MY_TEACHER_KEY", concurrency=3)
    store = tmp_path / "teacher.jsonl"
    cfg = GenConfig(n=3, temperature=0.7, top_p=0.99, max_new_tokens=64, batch_size=2, seed=5)
    recs = generate(backend, requests_from_samples(samples), cfg, store=store, progress=False)
    assert [r["id"] for r in recs] == [s.id for s in samples]
    for r, s in zip(recs, samples):
        assert len(r["responses"]) == 3
        assert r["responses"][0].startswith(f"{s.images[0].width}x{s.images[0].height} ")  # the image arrived intact
    assert all(auth == f"Bearer {SECRET}" for auth, _ in Handler.seen)
    body = Handler.seen[0][1]
    assert (body["n"], body["temperature"], body["top_p"], body["max_tokens"]) == (3, 0.7, 0.99, 64)
    # the key never reaches results, repr, or output
    assert SECRET not in store.read_text() and SECRET not in repr(backend)
    assert SECRET not in capsys.readouterr().out
    # resumable: a second call sends nothing
    before = len(Handler.seen)
    assert generate(backend, requests_from_samples(samples), cfg, store=store, progress=False) == recs
    assert len(Handler.seen) == before


def test_retries_on_503_and_refills_when_server_ignores_n(server):
    Handler.fail_first[0] = 2; Handler.max_n[0] = 1
    backend = OpenAIBackend(server, "teacher", api_key_env="UNSET_KEY_VAR", max_retries=3)
    samples = make_split("test", 1, progress=False)[:1]
    recs = generate(backend, requests_from_samples(samples), GenConfig(n=3, temperature=1.0, batch_size=1), progress=False)
    assert len(recs[0]["responses"]) == 3
    assert all(auth is None for auth, _ in Handler.seen)  # no key set, no header sent


def test_http_errors_are_clear(server):
    backend = OpenAIBackend(server.replace("/v1", "/nope"), "teacher", max_retries=0)
    samples = make_split("test", 1, progress=False)[:1]
    with pytest.raises(RuntimeError, match="answered 404"):
        generate(backend, requests_from_samples(samples), GenConfig(), progress=False)


class Echo(BaseHTTPRequestHandler):
    "A server whose error page echoes the request headers (some proxies do)."
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = ("bad request; headers were:\n" + str(self.headers) + f"\nkey={self.headers['Authorization'][7:]}").encode()
        self.send_response(400); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)

    def log_message(self, *a): pass


def test_error_bodies_are_redacted(monkeypatch):
    """An error body that echoes `Authorization: Bearer sk-...` must not put the key into the exception (and so into
    a log or an executed notebook)."""
    monkeypatch.setenv("MY_TEACHER_KEY", SECRET)
    reqs = requests_from_samples(make_split("test", 1, progress=False)[:1])
    with local_server(Echo) as url:
        backend = OpenAIBackend(url, "teacher", api_key_env="MY_TEACHER_KEY", max_retries=0)
        with pytest.raises(RuntimeError, match="answered 400") as e:
            generate(backend, reqs, GenConfig(max_new_tokens=8), progress=False)
    msg = str(e.value)
    assert SECRET not in msg and SECRET[:12] not in msg and "[redacted]" in msg, msg
    assert "bad request" in msg
