"""A gRPC C-core client (Debian's python3-grpcio) for the keepalive advisor's tests.

Usage: client.py TARGET MODE SECONDS [CLIENTS]

  healthy  keepalive 30s: one server stream of many messages with payloads (BDP probing),
           an Echo call every 5 messages, one call to a method the server does not have;
           then the process exits (an orderly FIN), as clients do.
  unknown  keepalive 1s without calls: calls only a method the server does not have
           (UNIMPLEMENTED), then idles for SECONDS while C-core keeps pinging.
  proxy    CLIENTS clients (20 unless given; one channel each) for SECONDS through a proxy:
           calls, NOT_FOUND errors, server streams cancelled after 50 ms, and pauses of 1-2 s
           that all clients take at once, so that more upstream connections come back to the
           proxy's pool than it keeps: it closes the longest idle ones.

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


def echo_with_status(status):
    return echo_request('x') + field_bytes(3, status.encode())


def proxy_client(target, seconds, number, results):
    channel = grpc.insecure_channel(target)
    echo = channel.unary_unary(SERVICE + 'Echo')
    stream = channel.unary_stream(SERVICE + 'Stream')
    counts = {'ok': 0, 'not_found': 0, 'cancelled': 0, 'failed': []}
    deadline = time.time() + seconds
    pause_at = time.time() + 2.0
    i = number
    while time.time() < deadline:
        i += 1
        try:
            if i % 5 == 0:
                try:
                    echo(echo_with_status('NOT_FOUND'), timeout=10)
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    counts['not_found'] += 1
            elif i % 3 == 0:
                call = stream(stream_request(100, 20, 1024), timeout=10)
                next(call)
                time.sleep(0.05)
                call.cancel()
                counts['cancelled'] += 1
            else:
                echo(echo_request('call'), timeout=10)
                counts['ok'] += 1
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                counts['failed'].append(error.code().name)
        if time.time() >= pause_at:
            # every client pauses at the same moments, for 1 to 2 s: the pool fills, then overflows
            time.sleep(1.0 + (number % 5) * 0.25)
            pause_at += 3.0
    channel.close()
    results[number] = counts


def proxy(target, seconds, clients=20):
    results = {}
    threads = [threading.Thread(target=proxy_client, args=(target, seconds, n, results)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = {'ok': 0, 'not_found': 0, 'cancelled': 0, 'failed': []}
    for counts in results.values():
        for key in ('ok', 'not_found', 'cancelled'):
            total[key] += counts[key]
        total['failed'] += counts['failed']
    report(mode='proxy', clients=len(results), **total)
    return len(results) == clients and not total['failed']


def main():
    target, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if mode == 'proxy':
        ok = proxy(target, seconds, int(sys.argv[4]) if len(sys.argv) > 4 else 20)
    else:
        ok = healthy(target, seconds) if mode == 'healthy' else unknown(target, seconds)
    report(done=True, ok=ok)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
