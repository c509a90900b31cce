'use strict';
// A grpc-js peer for the starter's interop tests. Prints one JSON object per line on stdout.
//
//   node peer.js client <target> <keepalive_time_ms> <permit_without_calls 0|1> <run_ms>
//     opens an idle server stream on TestService and reports how it ends, or "alive" after run_ms
//   node peer.js client <target> <pattern> <duration_ms> [key=value ...]
//     runs a pattern of the peer command line (docs/interop.md: unary, errors, cancel, download,
//     upload, bidi, concurrent, idle, mixed) and prints one {"event":"result",...} line
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

const GRPC_JS_VERSION = require('@grpc/grpc-js/package.json').version;
const MISSING = '/dev.grpckeepalive.test.TestService/Missing';

// Runs one pattern for duration_ms and prints its result: calls OK, statuses the pattern asked for
// (expected) and every other non-OK status (failed: a server or transport failure).
function pattern([target, name, durationMs, ...pairs]) {
  const keys = Object.fromEntries(pairs.map((pair) => pair.split('=')));
  const key = (k, fallback) => (keys[k] === undefined ? fallback : Number(keys[k]));
  const options = { 'grpc.use_local_subchannel_pool': 1 };
  if (key('keepalive_ms', 0) > 0) {
    options['grpc.keepalive_time_ms'] = key('keepalive_ms', 0);
    options['grpc.keepalive_timeout_ms'] = key('keepalive_timeout_ms', 20000);
    options['grpc.keepalive_permit_without_calls'] = key('without_calls', 0);
  }
  const stubs = [];
  for (let i = 0; i < key('channels', 1); i++) {
    // a local subchannel pool: each stub its own connection, as separate clients would have
    stubs.push(new TestService(target, grpc.credentials.createInsecure(), options));
  }
  const result = { event: 'result', peer: 'grpc-node-js/' + GRPC_JS_VERSION, pattern: name, ok: 0, expected: {},
    failed: {}, failures: [], messages: 0, bytes: 0 };
  let ending = false;
  let inFlight = 0;
  let turn = 0;
  let next = 0;
  const stub = () => stubs[next++ % stubs.length];
  const add = (counts, code) => { counts[code] = (counts[code] || 0) + 1; };
  // a callback for one call's end; `expected` is the status the pattern asked for, if any
  const ended = (expected, done) => (error) => {
    inFlight--;
    if (!error) {
      result.ok++;
    } else if (grpc.status[error.code] === expected || (ending && name === 'download' && error.code === grpc.status.CANCELLED)) {
      add(result.expected, grpc.status[error.code]);
    } else {
      add(result.failed, grpc.status[error.code]);
      if (result.failures.length < 5) result.failures.push(grpc.status[error.code] + ': ' + error.details);
    }
    if (done) done();
  };
  const reply = (message) => { result.messages++; result.bytes += message && message.payload ? message.payload.length : 0; };
  const unary = (done) => {
    inFlight++;
    stub().echo({ text: 'x'.repeat(key('size', 100)) }, (error, message) => { if (!error) reply(message); ended(null, done)(error); });
  };
  const error = (done, notFound) => {
    inFlight++;
    if (notFound) {
      stub().echo({ text: 'e', status: 'NOT_FOUND' }, (e) => ended('NOT_FOUND', done)(e));
    } else {
      const method = TestService.service.Echo;
      stub().makeUnaryRequest(MISSING, method.requestSerialize, method.responseDeserialize, { text: 'm' },
        (e) => ended('UNIMPLEMENTED', done)(e));
    }
  };
  const cancel = (done, deadline) => {
    inFlight++;
    if (deadline) {
      const startedAt = Date.now();
      stub().echo({ text: 'd', delayMillis: 200 }, { deadline: startedAt + 50 }, (e) => {
        if (e && e.code === grpc.status.CANCELLED && Date.now() - startedAt >= 45) {
          // the server reset the call at the same deadline (grpc-timeout) before this client's timer fired
          ended('CANCELLED', done)(e);
          return;
        }
        if (e && e.code === grpc.status.UNAVAILABLE && /HTTP status code 502/.test(e.details)) {
          // Through nginx: the server's copy of the deadline (grpc-timeout) fired before the client's own,
          // grpc-java reset the stream and nginx answers that with a 502. Still the call's own deadline.
          inFlight--;
          add(result.expected, 'DEADLINE_EXCEEDED (HTTP 502 via proxy)');
          if (done) done();
          return;
        }
        ended('DEADLINE_EXCEEDED', done)(e);
      });
      return;
    }
    const call = stub().stream({ count: 1000, intervalMillis: 10 });
    call.on('data', reply);
    call.on('error', (e) => ended('CANCELLED', done)(e));
    call.on('end', () => {}); // the status event follows
    call.on('status', (status) => { if (status.code === grpc.status.OK) ended(null, done)(null); });
    setTimeout(() => call.cancel(), 50);
  };
  const download = (done) => {
    inFlight++;
    const call = stub().stream({ count: key('count', 2000), payloadSize: key('size', 16384) });
    call.on('data', (message) => { reply(message); if (ending) call.cancel(); });
    call.on('error', (e) => ended(null, done)(e));
    call.on('status', (status) => { if (status.code === grpc.status.OK) ended(null, done)(null); });
  };
  const upload = (done) => {
    inFlight++;
    stub().echo({ text: 'u', payload: Buffer.alloc(key('size', 1048576)) }, (e) => ended(null, done)(e));
  };
  const concurrent = (done) => {
    inFlight++;
    stub().echo({ text: 'c', delayMillis: 200 }, (e, message) => { if (!e) reply(message); ended(null, done)(e); });
  };
  const timers = [];
  const paced = (rate, concurrency, start) => {
    // ticks of 10 ms (timers are coarse): each starts the calls the rate owes since the first
    const first = Date.now();
    let started = 0;
    timers.push(setInterval(() => {
      const owed = Math.floor(((Date.now() - first) * rate) / 1000) - started;
      for (let i = 0; i < owed; i++) {
        started++;
        if (!ending && inFlight < concurrency * stubs.length) start();
      }
    }, 10));
  };
  const repeated = (count, start) => {
    const again = () => { if (!ending) start(again); };
    for (let s = 0; s < stubs.length; s++) for (let i = 0; i < count; i++) start(again);
  };
  const rate = key('rate', 250);
  let idleCall = null;
  switch (name) {
    case 'unary': paced(rate, key('concurrency', 32), () => unary()); break;
    case 'errors': paced(rate, key('concurrency', 32), () => error(null, turn++ % 2 === 0)); break;
    case 'cancel': paced(rate, key('concurrency', 64), () => cancel(null, turn++ % 2 === 0)); break;
    case 'mixed': paced(rate, key('concurrency', 64), () => {
      const n = turn++;
      if (n % 10 === 0) error(null, true);
      else if (n % 10 === 1) error(null, false);
      else if (n % 10 < 4) cancel(null, n % 20 < 10);
      else unary();
    }); break;
    case 'download': repeated(key('streams', 4), download); break;
    case 'upload': repeated(key('concurrency', 4), upload); break;
    case 'concurrent': repeated(key('calls', 150), concurrent); break;
    case 'bidi': {
      for (let i = 0; i < key('streams', 8); i++) {
        inFlight++;
        const call = stub().chat();
        call.on('data', reply);
        call.on('error', (e) => ended(null)(e));
        call.on('status', (status) => { if (status.code === grpc.status.OK) ended(null)(null); });
        const timer = setInterval(() => { if (!ending) call.write({ text: 'b' }); }, 1000 / key('rate', 100));
        timers.push(timer);
        call.matrixEnd = () => call.end();
        timers.push({ call });
      }
      break;
    }
    case 'idle': {
      if (key('withcall', 1) === 1) {
        inFlight++;
        idleCall = stub().stream({ holdMillis: Number(durationMs) });
        idleCall.on('data', reply);
        idleCall.on('error', (e) => { result.closed = grpc.status[e.code] + ': ' + e.details; ended(null)(e); });
        idleCall.on('status', (status) => { if (status.code === grpc.status.OK) ended(null)(null); });
      } else {
        stubs[0].getChannel().getConnectivityState(true);
        result.ok++;
      }
      result.closed = null;
      break;
    }
    default:
      print({ event: 'error', details: 'unknown pattern ' + name });
      process.exit(2);
  }
  setTimeout(() => {
    ending = true;
    for (const timer of timers) {
      if (timer.call) timer.call.matrixEnd(); else clearInterval(timer);
    }
    const started = Date.now();
    const wait = setInterval(() => {
      if (inFlight <= 0 || Date.now() - started > 30000) {
        clearInterval(wait);
        if (inFlight > 0) {
          add(result.failed, 'UNFINISHED');
          result.failures.push(inFlight + ' call(s) still in flight 30 s after the end');
        }
        print(result);
        for (const s of stubs) s.close();
        process.exit(0);
      }
    }, 20);
  }, Number(durationMs));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'client' && args.length >= 3 && isNaN(Number(args[1]))) {
  pattern(args);
} else if (mode === 'client') {
  client(args);
} else if (mode === 'server') {
  server(args);
} else {
  print({ event: 'error', details: 'usage: peer.js client|server ...' });
  process.exit(2);
}
