"""A gRPC C-core client (Debian's python3-grpcio) for the keepalive advisor's tests.

Usage: client.py TARGET MODE SECONDS

  healthy  keepalive 30s: one server stream of many messages with payloads (BDP probing),
           an Echo call every 5 messages, one call to a method the server does not have;
           then the process exits (an orderly FIN), as clients do.
  unknown  keepalive 1s without calls: calls only a method the server does not have
           (UNIMPLEMENTED), then idles for SECONDS while C-core keeps pinging.

Messages are encoded by hand (no generated code): the test proto is
autoconfigure/src/test/protobuf/keepalive_test.proto. Prints one JSON line per result and
exits 0 when every call ended as expected.
"""
import json
import sys
import threading
import time

import grpc

SERVICE = '/dev.grpckeepalive.test.TestService/'


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, value):
    return varint((number << 3) | 2) + varint(len(value)) + value


def echo_request(text):
    return field_bytes(1, text.encode())


def stream_request(count, interval_millis, payload_size):
    return field_varint(1, count) + field_varint(2, interval_millis) + field_varint(4, payload_size)


def report(**fields):
    print(json.dumps(fields), flush=True)


def unknown_call(channel):
    try:
        channel.unary_unary('/dev.grpckeepalive.test.Missing/Nothing')(b'', timeout=10)
        return 'OK'
    except grpc.RpcError as error:
        return error.code().name


def healthy(target, seconds):
    channel = grpc.insecure_channel(target, options=[('grpc.keepalive_time_ms', 30000)])
    echo = channel.unary_unary(SERVICE + 'Echo')
    stream = channel.unary_stream(SERVICE + 'Stream')
    failures = []
    count = max(1, int(seconds * 1000 / 100))
    messages = 0
    for _ in stream(stream_request(count, 100, 32768), timeout=seconds + 30):
        messages += 1
        if messages % 5 == 0:
            try:
                echo(echo_request('call %d' % messages), timeout=10)
            except grpc.RpcError as error:
                failures.append(error.code().name)
    unknown = unknown_call(channel)
    report(mode='healthy', messages=messages, failures=failures, unknown=unknown)
    channel.close()
    return not failures and messages == count and unknown == 'UNIMPLEMENTED'


def unknown(target, seconds):
    channel = grpc.insecure_channel(target, options=[('grpc.keepalive_time_ms', 1000),
                                                     ('grpc.keepalive_permit_without_calls', 1)])
    codes = [unknown_call(channel) for _ in range(3)]
    report(mode='unknown', codes=codes)
    time.sleep(seconds)
    channel.close()
    return codes == ['UNIMPLEMENTED'] * 3


def main():
    target, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    ok = healthy(target, seconds) if mode == 'healthy' else unknown(target, seconds)
    report(done=True, ok=ok)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
