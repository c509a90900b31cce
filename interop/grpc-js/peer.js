'use strict';
// A grpc-js peer for the starter's interop tests. Prints one JSON object per line on stdout.
//
//   node peer.js client <target> <keepalive_time_ms> <permit_without_calls 0|1> <run_ms>
//     opens an idle server stream on TestService and reports how it ends, or "alive" after run_ms
//   node peer.js server <keepalive_time_ms> <min_ping_interval_ms>
//     serves TestService on 127.0.0.1 with keepalive on, prints the port, runs until stdin closes
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO = path.join(__dirname, '..', '..', 'autoconfigure', 'src', 'test', 'protobuf', 'keepalive_test.proto');
const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: true });
const TestService = grpc.loadPackageDefinition(definition).dev.grpckeepalive.test.TestService;

function print(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function client([target, keepaliveTimeMs, permitWithoutCalls, runMs]) {
  const stub = new TestService(target, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': Number(keepaliveTimeMs),
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.keepalive_permit_without_calls': Number(permitWithoutCalls),
  });
  const call = stub.stream({ holdMillis: 120000 });
  call.on('data', () => {});
  call.on('error', (error) => {
    print({ event: 'status', code: grpc.status[error.code], details: error.details });
    process.exit(0);
  });
  call.on('end', () => {
    print({ event: 'status', code: 'OK', details: '' });
    process.exit(0);
  });
  setTimeout(() => {
    print({ event: 'alive' });
    call.cancel();
    process.exit(0);
  }, Number(runMs));
}

function server([keepaliveTimeMs, minPingIntervalMs]) {
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': Number(keepaliveTimeMs),
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': Number(minPingIntervalMs),
  });
  server.addService(TestService.service, {
    echo: (call, callback) => callback(null, { text: call.request.text }),
    stream: (call) => {
      const timer = setTimeout(() => call.end(), call.request.holdMillis);
      call.on('cancelled', () => clearTimeout(timer));
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      print({ event: 'error', details: String(error) });
      process.exit(1);
    }
    print({ event: 'listening', port });
  });
  process.stdin.on('end', () => server.tryShutdown(() => process.exit(0)));
  process.stdin.resume();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'client') {
  client(args);
} else if (mode === 'server') {
  server(args);
} else {
  print({ event: 'error', details: 'usage: peer.js client|server ...' });
  process.exit(2);
}
