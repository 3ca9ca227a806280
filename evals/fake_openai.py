"""A local OpenAI-compatible chat-completions server: real HTTP on 127.0.0.1, for tests and the misbehaving-model suite.

The real `langchain-openai` client talks to it exactly as it talks to OpenAI. A *script* (a
function of the request) decides each answer: text, tool calls (also malformed ones), an HTTP
error, a delay longer than the client's timeout, or a stream that pauses until the test lets
it go on. Every request is recorded for assertions, and the server checks the protocol rule
providers enforce: every tool call of an assistant message is answered by a tool message.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAI", "Reply", "Script", "protocol_errors", "system_text", "tools_offered", "user_text"]


@dataclass
class Reply:
    """One answer of the fake provider.

    Attributes:
        content: Assistant text.
        tool_calls: (name, arguments) pairs; a dict is sent as JSON, a str as is (to send
            malformed JSON).
        status: HTTP status; anything but 200 sends an OpenAI-style error body.
        error_code: The error body's `code` (e.g. "rate_limit_exceeded").
        headers: Extra response headers (e.g. retry-after-ms).
        delay: Seconds to wait before answering (longer than the client timeout = a timeout).
        gate: Wait for this event after the first piece of text when streaming, before
            answering at all otherwise.
        break_after: When streaming, drop the connection after this many pieces of text, in
            the middle of a response whose announced length promised more (a broken stream).
    """

    content: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gate: threading.Event | None = None
    break_after: int | None = None


Script = Callable[[dict[str, Any]], Reply]


def system_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in request["messages"] if m["role"] == "system")


def user_text(request: dict[str, Any]) -> str:
    """The customer's message of this turn (the agents send exactly one user message)."""
    return next(str(m.get("content") or "") for m in request["messages"] if m["role"] == "user")


def tools_offered(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools", [])]


def protocol_errors(request: dict[str, Any]) -> list[str]:
    """What OpenAI would reject: tool calls left unanswered, or answers to calls never made."""
    errors: list[str] = []
    open_ids: list[str] = []
    for m in request["messages"]:
        if m["role"] == "tool":
            if m.get("tool_call_id") not in open_ids:
                errors.append(f"tool message for unknown call {m.get('tool_call_id')!r}")
            else:
                open_ids.remove(m["tool_call_id"])
            continue
        if open_ids:
            errors.append(f"tool calls {open_ids} have no tool message")
            open_ids = []
        if m["role"] == "assistant":
            open_ids = [tc["id"] for tc in m.get("tool_calls") or []]
    if open_ids:
        errors.append(f"tool calls {open_ids} have no tool message")
    return errors


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeOpenAI:
    """The server. Use as a context manager; `base_url` goes into OPENAI_BASE_URL."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.usage_sent: list[dict[str, int]] = []
        self._lock = threading.Lock()
        self._counter = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server._handle(self, json.loads(body or b"{}"))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=lambda: self._httpd.serve_forever(poll_interval=0.05), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- serving ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, request: dict[str, Any]) -> None:
        if handler.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(handler, 404, "not_found", f"no route {handler.path}", {})
            return
        with self._lock:
            self.requests.append(request)
            self._counter += 1
            number = self._counter
        problems = protocol_errors(request)
        reply = Reply(status=400, error_code="invalid_request") if problems else self.script(request)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.gate is not None and not request.get("stream"):
            reply.gate.wait(timeout=30)  # a whole answer waits for the gate too
        try:
            if reply.status != 200:
                self._send_error(handler, reply.status, reply.error_code, "; ".join(problems), reply.headers)
            elif request.get("stream"):
                self._send_stream(handler, request, reply, number)
            else:
                self._send_json(handler, 200, self._completion(request, reply, number), reply.headers)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _usage(self, request: dict[str, Any], reply: Reply) -> dict[str, int]:
        prompt = _tokens(json.dumps(request["messages"]) + json.dumps(request.get("tools", [])))
        completion = _tokens(reply.content + "".join(str(a) for _, a in reply.tool_calls))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        with self._lock:
            self.usage_sent.append(usage)
        return usage

    @staticmethod
    def _calls(reply: Reply, number: int) -> list[dict[str, Any]]:
        return [
            {
                "id": f"call_{number}_{i}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for i, (name, args) in enumerate(reply.tool_calls)
        ]

    def _completion(self, request: dict[str, Any], reply: Reply, number: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if reply.tool_calls:
            message["tool_calls"] = self._calls(reply, number)
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "unknown"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}
            ],
            "usage": self._usage(request, reply),
        }

    def _chunks(self, request: dict[str, Any], reply: Reply, number: int) -> Iterator[dict[str, Any]]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": f"chatcmpl-{number}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": request.get("model", "unknown"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        yield chunk({"role": "assistant", "content": ""})
        for i, piece in enumerate(re.findall(r"\S+\s*|\s+", reply.content)):
            yield chunk({"content": piece})
            if i == 0 and reply.gate is not None:
                reply.gate.wait(timeout=30)
        for index, call in enumerate(self._calls(reply, number)):
            args = call["function"]["arguments"]
            head = {"index": index, "id": call["id"], "type": "function"}
            yield chunk({"tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}]})
            half = len(args) // 2
            for part in (args[:half], args[half:]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
        if (request.get("stream_options") or {}).get("include_usage"):
            last = chunk({})
            last["choices"] = []
            last["usage"] = self._usage(request, reply)
            yield last

    def _send_stream(self, handler: BaseHTTPRequestHandler, request: dict[str, Any], reply: Reply, n: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        if reply.break_after is None:
            handler.end_headers()
            for item in self._chunks(request, reply, n):
                handler.wfile.write(f"data: {json.dumps(item)}\n\n".encode())
                handler.wfile.flush()
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
            return
        # A broken stream: the announced length says more is coming, then the connection drops,
        # which the client sees as a transport error in the middle of the answer.
        events = [f"data: {json.dumps(item)}\n\n".encode() for item in self._chunks(request, reply, n)]
        events.append(b"data: [DONE]\n\n")
        handler.send_header("Content-Length", str(sum(len(e) for e in events)))
        handler.end_headers()
        for event in events[: 1 + reply.break_after]:  # the role chunk, then break_after pieces of text
            handler.wfile.write(event)
            handler.wfile.flush()
        handler.close_connection = True

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _send_error(
        self, handler: BaseHTTPRequestHandler, status: int, code: str | None, detail: str, headers: dict[str, str]
    ) -> None:
        message = detail or f"scripted error {status}"
        kind = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": kind, "code": code}}
        self._send_json(handler, status, body, headers)
