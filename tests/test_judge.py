"""Judge-mode extraction through the OpenAI-compatible backend, against a real local server; cached on disk."""
import json
from http.server import BaseHTTPRequestHandler

import pytest

from coldstart_nb.generate import OpenAIBackend
from coldstart_nb.scoring import Judge, grade_with_judge
from conftest import local_server, send_json


class Handler(BaseHTTPRequestHandler):
    calls = []
    reply = ["42"]

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.calls.append(body)
        send_json(self, {"choices": [{"index": 0, "finish_reason": "stop", "message": {"content": Handler.reply[0]}}]})

    def log_message(self, *a):
        pass


@pytest.fixture
def url():
    Handler.calls.clear(); Handler.reply[0] = "42"
    with local_server(Handler) as base:
        yield base


def test_judge_extracts_caches_and_grades(url, tmp_path):
    judge = Judge(OpenAIBackend(url, "judge"), tmp_path / "judge.jsonl")
    resp = "After much thought I would say forty-two is what remains."   # no rule-based extraction finds this
    v = grade_with_judge(judge, "How many?", resp, "42")
    assert (v.correct, v.method, v.extracted) == (True, "judge", "42")
    assert "forty-two" in Handler.calls[0]["messages"][0]["content"][0]["text"]
    # cached: a new Judge on the same file asks nothing
    again = Judge(OpenAIBackend(url, "judge"), tmp_path / "judge.jsonl")
    assert grade_with_judge(again, "How many?", resp, "42").correct and len(Handler.calls) == 1


def test_judge_none_falls_back_to_rules(url, tmp_path):
    Handler.reply[0] = "NONE"
    judge = Judge(OpenAIBackend(url, "judge"), tmp_path / "judge.jsonl")
    v = grade_with_judge(judge, "q", "so \\boxed{7}", "7")
    assert (v.correct, v.method) == (True, "boxed")


def test_judge_outage_falls_back_to_rules(tmp_path):
    judge = Judge(OpenAIBackend("http://127.0.0.1:9/v1", "judge", max_retries=0, timeout=2), tmp_path / "j.jsonl")
    v = grade_with_judge(judge, "q", "the answer is 5", "5")
    assert v.correct and v.method == "answer_is"
