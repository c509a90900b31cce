#!/usr/bin/python3
"""A gRPC C-core peer (through gRPC for Python) for the starter's interop tests.

Speaks the peers' common command line (docs/interop.md) and prints one JSON object per line
on stdout; diagnostics go to stderr.

  peer.py client <target> <pattern> <duration_ms> [key=value ...]
  peer.py server <keepalive_time_ms> <min_ping_interval_ms> [key=value ...]

Messages of TestService (autoconfigure/src/test/protobuf/keepalive_test.proto) are encoded by
hand: no generated code, so that Debian's python3-grpcio is all it needs.
"""

import asyncio
import json
import random
import sys
import time

import grpc
import grpc.aio

SERVICE = "dev.grpckeepalive.test.TestService"
ECHO = "/" + SERVICE + "/Echo"
STREAM = "/" + SERVICE + "/Stream"
CHAT = "/" + SERVICE + "/Chat"
MISSING = "/" + SERVICE + "/Missing"


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def log(message):
    sys.stderr.write("python peer: " + message + "\n")
    sys.stderr.flush()


# --- protobuf wire format, just what TestService needs -------------------------------------

def _varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number, value):
    return _varint(number << 3) + _varint(value) if value else b""


def _field_bytes(number, value):
    return _varint(number << 3 | 2) + _varint(len(value)) + value if value else b""


def _parse(data):
    """Field number -> value (int for varints, bytes for length-delimited); last one wins."""
    fields = {}
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            fields[number], i = _read_varint(data, i)
        elif wire_type == 2:
            length, i = _read_varint(data, i)
            fields[number] = data[i:i + length]
            i += length
        elif wire_type == 1:
            i += 8
        elif wire_type == 5:
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
    return fields


def _read_varint(data, i):
    shift = 0
    value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def echo_request(text=b"", delay_millis=0, status="", payload=b""):
    return (_field_bytes(1, text) + _field_varint(2, delay_millis) + _field_bytes(3, status.encode())
            + _field_bytes(4, payload))


def stream_request(count=0, interval_millis=0, hold_millis=0, payload_size=0):
    return (_field_varint(1, count) + _field_varint(2, interval_millis) + _field_varint(3, hold_millis)
            + _field_varint(4, payload_size))


# --- client ----------------------------------------------------------------------------------

class Result:
    """What a pattern saw: calls that succeeded, statuses it asked for, and failures."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.ok = 0
        self.expected = {}
        self.failed = {}
        self.failures = []
        self.messages = 0
        self.bytes = 0
        self.closed = None

    def expect(self, code):
        self.expected[code] = self.expected.get(code, 0) + 1

    def fail(self, code, detail):
        self.failed[code] = self.failed.get(code, 0) + 1
        if len(self.failures) < 5:
            self.failures.append(detail)

    def outcome(self, error, expected_codes=()):
        """Counts a failed call: expected when its code is one the pattern asked for."""
        code = error.code().name if isinstance(error, grpc.aio.AioRpcError) else "UNKNOWN"
        if code in expected_codes:
            self.expect(code)
        else:
            self.fail(code, "%s: %s" % (code, error.details() if isinstance(error, grpc.aio.AioRpcError)
                                        else repr(error)))

    def received(self, message):
        self.messages += 1
        self.bytes += len(message)


def user_agent():
    """The start of the user agent C-core sends, which goes on with the core's version and platform.

    Python's API does not tell the core's version: Debian's 1.51.1 sends
    'grpc-python-asyncio/1.51.1 grpc-c/29.0.0 (linux; chttp2)' from grpc.aio.
    """
    return "grpc-python-asyncio/%s grpc-c" % grpc.__version__


class Client:

    def __init__(self, target, pattern, duration_ms, keys):
        self.target = target
        self.pattern = pattern
        self.duration = duration_ms / 1000.0
        self.keys = keys
        self.result = Result(pattern)
        self.random = random.Random(int(keys.get("seed", "1")))
        options = [("grpc.use_local_subchannel_pool", 1)]  # one connection per channel, not a shared one
        keepalive_ms = int(keys.get("keepalive_ms", "0"))
        if keepalive_ms > 0:
            options += [
                ("grpc.keepalive_time_ms", keepalive_ms),
                ("grpc.keepalive_timeout_ms", int(keys.get("keepalive_timeout_ms", "20000"))),
                ("grpc.keepalive_permit_without_calls", int(keys.get("without_calls", "0"))),
            ]
        if "max_pings_without_data" in keys:
            options.append(("grpc.http2.max_pings_without_data", int(keys["max_pings_without_data"])))
        if "bdp_probe" in keys:
            options.append(("grpc.http2.bdp_probe", int(keys["bdp_probe"])))
        self.options = options
        self.channels = []
        self.next_channel = 0

    def key(self, name, default):
        return int(self.keys.get(name, default))

    def channel(self):
        channel = self.channels[self.next_channel % len(self.channels)]
        self.next_channel += 1
        return channel

    async def run(self):
        patterns = {
            "unary": self.unary, "errors": self.errors, "cancel": self.cancel, "download": self.download,
            "upload": self.upload, "bidi": self.bidi, "concurrent": self.concurrent, "idle": self.idle,
            "mixed": self.mixed,
        }
        if self.pattern not in patterns:
            raise SystemExit("unknown pattern " + self.pattern + "; one of " + ", ".join(patterns))
        # inside the event loop: grpc.aio binds a channel to the loop that is running when it is made
        self.channels = [grpc.aio.insecure_channel(self.target, options=self.options)
                         for _ in range(self.key("channels", "1"))]
        self.deadline = time.monotonic() + self.duration
        await patterns[self.pattern]()
        for channel in self.channels:
            await channel.close()
        result = {"event": "result", "peer": user_agent(), "pattern": self.pattern, "ok": self.result.ok,
                  "expected": self.result.expected, "failed": self.result.failed,
                  "failures": self.result.failures, "messages": self.result.messages, "bytes": self.result.bytes}
        if self.pattern == "idle":
            result["closed"] = self.result.closed
        emit(result)

    # one call of each kind; each counts its own outcome

    async def call_unary(self, text):
        try:
            reply = await self.channel().unary_unary(ECHO)(echo_request(text=text))
            self.result.received(reply)
            self.result.ok += 1
        except grpc.aio.AioRpcError as error:
            self.result.outcome(error)

    async def call_not_found(self):
        try:
            await self.channel().unary_unary(ECHO)(echo_request(text=b"x", status="NOT_FOUND"))
            self.result.fail("OK", "NOT_FOUND asked for, OK answered")
        except grpc.aio.AioRpcError as error:
            self.result.outcome(error, ("NOT_FOUND",))

    async def call_missing(self):
        try:
            await self.channel().unary_unary(MISSING)(echo_request(text=b"x"))
            self.result.fail("OK", "an unknown method answered OK")
        except grpc.aio.AioRpcError as error:
            self.result.outcome(error, ("UNIMPLEMENTED",))

    async def call_deadline(self):
        started = time.monotonic()
        try:
            await self.channel().unary_unary(ECHO)(echo_request(text=b"x", delay_millis=200), timeout=0.05)
            self.result.fail("OK", "a 200 ms call answered within its 50 ms deadline")
        except grpc.aio.AioRpcError as error:
            # The server enforces the same deadline (grpc-timeout) and resets the stream when it
            # passes; that RST_STREAM CANCEL can reach C-core before its own timer fires: the
            # call's own deadline all the same, not a failure.
            own_deadline = time.monotonic() - started >= 0.045
            if own_deadline and error.code() == grpc.StatusCode.UNAVAILABLE and "status: 502" in (error.details() or ""):
                # Through nginx that reset reaches the client as an HTTP 502: the same deadline.
                self.result.expect("DEADLINE_EXCEEDED (HTTP 502 via proxy)")
                return
            self.result.outcome(error, ("DEADLINE_EXCEEDED", "CANCELLED") if own_deadline else ("DEADLINE_EXCEEDED",))

    async def call_cancelled_stream(self):
        call = self.channel().unary_stream(STREAM)(stream_request(count=1000, interval_millis=10))
        reader = asyncio.ensure_future(self.drain(call))
        await asyncio.sleep(0.05)
        call.cancel()
        try:
            await reader
        except asyncio.CancelledError:
            pass
        code = await call.code()
        if code == grpc.StatusCode.CANCELLED:
            self.result.expect("CANCELLED")
        elif code == grpc.StatusCode.OK:
            self.result.fail("OK", "a 10 s stream completed within 50 ms")
        else:
            self.result.fail(code.name, "%s: %s" % (code.name, await call.details()))

    async def drain(self, call):
        try:
            async for message in call:
                self.result.received(message)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass

    async def guarded(self, kind):
        """Runs one call; whatever else it raises is a failure to report, not the end of the pattern."""
        try:
            await kind()
        except Exception as error:  # noqa: BLE001 - reported in the result
            self.result.fail("UNKNOWN", repr(error))

    async def paced(self, kinds):
        """Starts calls of the given kinds in turn at `rate` a second, at most `concurrency` in flight."""
        rate = self.key("rate", "250")
        limit = asyncio.Semaphore(self.key("concurrency", "32"))
        tasks = set()
        started = time.monotonic()
        n = 0
        while True:
            due = started + n / rate
            if due >= self.deadline:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await limit.acquire()
            task = asyncio.ensure_future(self.guarded(kinds[n % len(kinds)]))
            task.add_done_callback(lambda _: limit.release())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.gather(*tasks)

    async def unary(self):
        text = b"x" * self.key("size", "100")
        await self.paced([lambda: self.call_unary(text)])

    async def errors(self):
        await self.paced([self.call_not_found, self.call_missing])

    async def cancel(self):
        await self.paced([self.call_deadline, self.call_cancelled_stream])

    async def mixed(self):
        text = b"x" * self.key("size", "100")
        await self.paced([lambda: self.call_unary(text), self.call_not_found, lambda: self.call_unary(text),
                          self.call_missing, self.call_deadline, self.call_cancelled_stream])

    async def download(self):
        request = stream_request(count=self.key("count", "2000"), payload_size=self.key("size", "16384"))

        async def one_stream():
            # no deadline: a stream that is running when the duration ends completes, so that
            # the pattern asks for no status of its own
            while time.monotonic() < self.deadline:
                call = self.channel().unary_stream(STREAM)(request)
                try:
                    async for message in call:
                        self.result.received(message)
                    self.result.ok += 1
                except grpc.aio.AioRpcError as error:
                    self.result.outcome(error)
                    await asyncio.sleep(0.01)  # not a hot loop against a server that is gone

        await asyncio.gather(*[one_stream() for _ in range(self.key("streams", "4"))])

    async def upload(self):
        payload = b"u" * self.key("size", "1048576")
        request = echo_request(text=b"up", payload=payload)

        async def uploader():
            while time.monotonic() < self.deadline:
                try:
                    reply = await self.channel().unary_unary(ECHO)(request)
                    self.result.received(reply)
                    self.result.bytes += len(payload)
                    self.result.ok += 1
                except grpc.aio.AioRpcError as error:
                    self.result.outcome(error)
                    await asyncio.sleep(0.01)  # not a hot loop against a server that is gone

        await asyncio.gather(*[uploader() for _ in range(self.key("concurrency", "4"))])

    async def bidi(self):
        rate = self.key("rate", "100")
        text = b"x" * self.key("size", "20")

        async def chat():
            call = self.channel().stream_stream(CHAT)()
            reader = asyncio.ensure_future(self.drain(call))
            started = time.monotonic()
            sent = 0
            try:
                while True:
                    due = started + sent / rate
                    if due >= self.deadline:
                        break
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    await call.write(echo_request(text=text))
                    sent += 1
                await call.done_writing()
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                pass  # the call ended early: its status says why
            await reader
            code = await call.code()
            if code == grpc.StatusCode.OK:
                self.result.ok += 1
            else:
                self.result.fail(code.name, "%s: %s" % (code.name, await call.details()))

        await asyncio.gather(*[chat() for _ in range(self.key("streams", "8"))])

    async def concurrent(self):
        request = echo_request(text=b"c", delay_millis=200)

        async def caller():
            while time.monotonic() < self.deadline:
                try:
                    reply = await self.channel().unary_unary(ECHO)(request)
                    self.result.received(reply)
                    self.result.ok += 1
                except grpc.aio.AioRpcError as error:
                    self.result.outcome(error)
                    await asyncio.sleep(0.01)  # not a hot loop against a server that is gone

        await asyncio.gather(*[caller() for _ in range(self.key("calls", "150"))])

    async def idle(self):
        channel = self.channels[0]
        if self.key("withcall", "1"):
            call = channel.unary_stream(STREAM)(stream_request(hold_millis=int(self.duration * 1000) + 60000))
            reader = asyncio.ensure_future(self.drain(call))
            done, _ = await asyncio.wait([reader], timeout=self.duration)
            if done:
                code = await call.code()
                self.result.closed = "%s: %s" % (code.name, await call.details())
                self.result.fail(code.name, self.result.closed)
            else:
                call.cancel()
                self.result.ok += 1
            return
        await channel.channel_ready()
        state = channel.get_state()
        while time.monotonic() < self.deadline:
            try:
                await asyncio.wait_for(channel.wait_for_state_change(state), self.deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            state = channel.get_state()
            if state != grpc.ChannelConnectivity.READY:
                self.result.closed = state.name
                self.result.fail(state.name, "the connection left READY for " + state.name)
                return
        self.result.ok += 1


# --- server ----------------------------------------------------------------------------------

async def serve(keepalive_time_ms, min_ping_interval_ms, keys):
    options = [
        ("grpc.keepalive_time_ms", keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", int(keys.get("keepalive_timeout_ms", "20000"))),
        ("grpc.keepalive_permit_without_calls", 1),
        # the server's own keepalive PINGs are not limited to two between DATA frames
        ("grpc.http2.max_pings_without_data", 0),
        # C-core's enforcement: a PING sooner than this after the last one is a strike
        ("grpc.http2.min_ping_interval_without_data_ms", min_ping_interval_ms),
        ("grpc.http2.max_ping_strikes", int(keys.get("max_ping_strikes", "2"))),
    ]
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
    }),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    emit({"event": "listening", "port": port})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(1)


async def answer(request, context):
    """EchoReply for an EchoRequest, or the status it asks for (trailers only)."""
    fields = _parse(request)
    if fields.get(2, 0) > 0:
        await asyncio.sleep(fields[2] / 1000.0)
    status = fields.get(3, b"").decode()
    if status:
        await context.abort(grpc.StatusCode[status], "asked for " + status)
    return _field_bytes(1, fields.get(1, b""))


async def echo(request, context):
    return await answer(request, context)


async def stream(request, context):
    fields = _parse(request)
    payload = b"\0" * fields.get(4, 0)
    for sequence in range(fields.get(1, 0)):
        yield _field_varint(1, sequence) + _field_bytes(2, payload)
        if fields.get(2, 0) > 0:
            await asyncio.sleep(fields[2] / 1000.0)
    if fields.get(3, 0) > 0:
        await asyncio.sleep(fields[3] / 1000.0)


async def chat(requests, context):
    async for request in requests:
        yield await answer(request, context)


def main(argv):
    if len(argv) >= 4 and argv[0] == "client":
        keys = dict(argument.split("=", 1) for argument in argv[4:])
        asyncio.run(Client(argv[1], argv[2], int(argv[3]), keys).run())
    elif len(argv) >= 3 and argv[0] == "server":
        keys = dict(argument.split("=", 1) for argument in argv[3:])
        asyncio.run(serve(int(argv[1]), int(argv[2]), keys))
    else:
        log("usage: peer.py client <target> <pattern> <duration_ms> [key=value ...]"
            " | server <keepalive_time_ms> <min_ping_interval_ms>")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
