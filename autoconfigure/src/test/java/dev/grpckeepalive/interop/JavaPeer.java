package dev.grpckeepalive.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

/**
 * The matrix's in-JVM clients: grpc-java over Netty or over OkHttp running one pattern of the
 * peer command line (docs/interop.md) against a target, with the same keys and defaults as the
 * other peers, reporting a {@link CellResult}.
 */
final class JavaPeer {

	/** grpc-java's client transports. */
	enum Transport {

		NETTY("netty"), OKHTTP("okhttp");

		final String transportName;

		Transport(String transportName) {
			this.transportName = transportName;
		}

	}

	/** A method the server does not have: answered UNIMPLEMENTED, trailers only. */
	static final MethodDescriptor<EchoRequest, EchoReply> MISSING = TestServiceGrpc.getEchoMethod()
		.toBuilder()
		.setFullMethodName("dev.grpckeepalive.test.TestService/Missing")
		.build();

	private final Transport transport;

	private final String target;

	private final String pattern;

	private final Duration duration;

	private final Map<String, String> keys;

	private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, (task) -> {
		Thread thread = new Thread(task, "java-peer");
		thread.setDaemon(true);
		return thread;
	});

	private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();

	private final Tally tally = new Tally();

	private volatile boolean ending;

	private JavaPeer(Transport transport, String target, String pattern, Duration duration, Map<String, String> keys) {
		this.transport = transport;
		this.target = target;
		this.pattern = pattern;
		this.duration = duration;
		this.keys = keys;
	}

	/** Runs {@code pattern} for {@code duration} against {@code target}; keys as on the peer command line. */
	static CellResult run(Transport transport, String target, String pattern, Duration duration, Map<String, String> keys)
			throws InterruptedException {
		JavaPeer peer = new JavaPeer(transport, target, pattern, duration, keys);
		try {
			return peer.run();
		}
		finally {
			peer.scheduler.shutdownNow();
			peer.channels.forEach(ManagedChannel::shutdownNow);
		}
	}

	private CellResult run() throws InterruptedException {
		int rate = key("rate", 250);
		switch (this.pattern) {
			case "unary" -> paced(rate, key("concurrency", 32), (stub, done) -> unary(stub, done));
			case "errors" -> {
				AtomicLong turn = new AtomicLong();
				paced(rate, key("concurrency", 32), (stub, done) -> error(stub, done, turn.getAndIncrement() % 2 == 0));
			}
			case "cancel" -> {
				AtomicLong turn = new AtomicLong();
				paced(rate, key("concurrency", 64), (stub, done) -> cancel(stub, done, turn.getAndIncrement() % 2 == 0));
			}
			case "mixed" -> {
				AtomicLong turn = new AtomicLong();
				paced(rate, key("concurrency", 64), (stub, done) -> {
					long n = turn.getAndIncrement();
					switch ((int) (n % 10)) {
						case 0 -> error(stub, done, true);
						case 1 -> error(stub, done, false);
						case 2, 3 -> cancel(stub, done, n % 20 < 10);
						default -> unary(stub, done);
					}
				});
			}
			case "download" -> repeated(key("streams", 4), (stub, done) -> download(stub, done));
			case "upload" -> repeated(key("concurrency", 4), (stub, done) -> upload(stub, done));
			case "concurrent" -> repeated(key("calls", 150), (stub, done) -> {
				stub.echo(EchoRequest.newBuilder().setText("c").setDelayMillis(200).build(),
						observer(done, null, (reply) -> 1));
			});
			case "bidi" -> bidi(key("streams", 8), rate);
			case "idle" -> idle();
			case "churn" -> churn();
			default -> throw new IllegalArgumentException("unknown pattern " + this.pattern);
		}
		return this.tally.result(userAgent(), this.pattern);
	}

	/** The user agent grpc-java sends: its transport and grpc-core's version. */
	private String userAgent() {
		return io.grpc.internal.GrpcUtil.getGrpcUserAgent(this.transport.transportName, null);
	}

	private int key(String name, int defaultValue) {
		String value = this.keys.get(name);
		return (value != null) ? Integer.parseInt(value) : defaultValue;
	}

	private ManagedChannel newChannel() {
		ManagedChannelBuilder<?> builder = (this.transport == Transport.NETTY)
				? NettyChannelBuilder.forTarget(this.target).usePlaintext()
				: OkHttpChannelBuilder.forTarget(this.target).usePlaintext();
		int keepAlive = key("keepalive_ms", 0);
		if (keepAlive > 0) {
			builder.keepAliveTime(keepAlive, TimeUnit.MILLISECONDS)
				.keepAliveTimeout(key("keepalive_timeout_ms", 20000), TimeUnit.MILLISECONDS)
				.keepAliveWithoutCalls(key("without_calls", 0) == 1);
		}
		ManagedChannel channel = builder.build();
		this.channels.add(channel);
		return channel;
	}

	private List<TestServiceGrpc.TestServiceStub> stubs() {
		List<TestServiceGrpc.TestServiceStub> stubs = new ArrayList<>();
		for (int i = 0; i < key("channels", 1); i++) {
			stubs.add(TestServiceGrpc.newStub(newChannel()));
		}
		return stubs;
	}

	/** One call of a pattern: starts it, and runs {@code done} once it ended, whichever way. */
	@FunctionalInterface
	private interface Call {

		void start(TestServiceGrpc.TestServiceStub stub, Runnable done);

	}

	/** Starts calls at {@code rate} a second, at most {@code concurrency} in flight (per channel). */
	private void paced(int rate, int concurrency, Call call) throws InterruptedException {
		List<TestServiceGrpc.TestServiceStub> stubs = stubs();
		Semaphore inFlight = new Semaphore(concurrency * stubs.size());
		AtomicLong next = new AtomicLong();
		long periodMicros = Math.max(1, 1_000_000L / rate);
		this.scheduler.scheduleAtFixedRate(() -> {
			if (!this.ending && inFlight.tryAcquire()) {
				TestServiceGrpc.TestServiceStub stub = stubs.get((int) (next.getAndIncrement() % stubs.size()));
				try {
					call.start(stub, inFlight::release);
				}
				catch (RuntimeException ex) {
					// a periodic task that throws is never run again: say why instead
					inFlight.release();
					this.tally.fail("CLIENT_ERROR", ex.toString());
				}
			}
		}, 0, periodMicros, TimeUnit.MICROSECONDS);
		finish(inFlight, concurrency * stubs.size());
	}

	/** Keeps {@code count} calls in flight (on each channel), each started again once it ends. */
	private void repeated(int count, Call call) throws InterruptedException {
		List<TestServiceGrpc.TestServiceStub> stubs = stubs();
		Semaphore inFlight = new Semaphore(count * stubs.size());
		for (TestServiceGrpc.TestServiceStub stub : stubs) {
			for (int i = 0; i < count; i++) {
				startRepeating(stub, call, inFlight);
			}
		}
		finish(inFlight, count * stubs.size());
	}

	private void startRepeating(TestServiceGrpc.TestServiceStub stub, Call call, Semaphore inFlight) {
		inFlight.acquireUninterruptibly();
		call.start(stub, () -> {
			inFlight.release();
			if (!this.ending) {
				this.scheduler.execute(() -> startRepeating(stub, call, inFlight));
			}
		});
	}

	/** Runs for the duration, then stops starting calls and waits for those in flight. */
	private void finish(Semaphore inFlight, int permits) throws InterruptedException {
		Thread.sleep(this.duration.toMillis());
		this.ending = true;
		if (!inFlight.tryAcquire(permits, 30, TimeUnit.SECONDS)) {
			this.tally.fail("UNFINISHED", (permits - inFlight.availablePermits()) + " call(s) still in flight 30 s after the end");
		}
	}

	private void unary(TestServiceGrpc.TestServiceStub stub, Runnable done) {
		stub.echo(EchoRequest.newBuilder().setText("x".repeat(key("size", 100))).build(), observer(done, null, (reply) -> 1));
	}

	private void error(TestServiceGrpc.TestServiceStub stub, Runnable done, boolean notFound) {
		if (notFound) {
			stub.echo(EchoRequest.newBuilder().setText("e").setStatus("NOT_FOUND").build(),
					observer(done, Status.Code.NOT_FOUND, (reply) -> 1));
		}
		else {
			ClientCalls.asyncUnaryCall(stub.getChannel().newCall(MISSING, CallOptions.DEFAULT),
					EchoRequest.newBuilder().setText("m").build(), observer(done, Status.Code.UNIMPLEMENTED, (reply) -> 1));
		}
	}

	private void cancel(TestServiceGrpc.TestServiceStub stub, Runnable done, boolean deadline) {
		if (deadline) {
			stub.withDeadlineAfter(50, TimeUnit.MILLISECONDS)
				.echo(EchoRequest.newBuilder().setText("d").setDelayMillis(200).build(),
						observer(done, Status.Code.DEADLINE_EXCEEDED, (reply) -> 1));
			return;
		}
		StreamObserver<StreamReply> results = observer(done, Status.Code.CANCELLED, (reply) -> 1);
		java.util.concurrent.atomic.AtomicReference<ClientCallStreamObserver<StreamRequest>> started = new java.util.concurrent.atomic.AtomicReference<>();
		stub.stream(StreamRequest.newBuilder().setCount(1000).setIntervalMillis(10).build(),
				new ClientResponseObserver<StreamRequest, StreamReply>() {

					@Override
					public void beforeStart(ClientCallStreamObserver<StreamRequest> call) {
						started.set(call);
					}

					@Override
					public void onNext(StreamReply reply) {
						results.onNext(reply);
					}

					@Override
					public void onError(Throwable error) {
						results.onError(error);
					}

					@Override
					public void onCompleted() {
						results.onCompleted();
					}

				});
		// scheduled once the call has sent its request: a cancel before that would make the stub throw
		this.scheduler.schedule(() -> started.get().cancel("the client's own cancel", null), 50, TimeUnit.MILLISECONDS);
	}

	private void download(TestServiceGrpc.TestServiceStub stub, Runnable done) {
		StreamRequest request = StreamRequest.newBuilder()
			.setCount(key("count", 2000))
			.setPayloadSize(key("size", 16384))
			.build();
		StreamObserver<StreamReply> results = observer(done, Status.Code.CANCELLED, (reply) -> 1);
		stub.stream(request, new ClientResponseObserver<StreamRequest, StreamReply>() {

			private @Nullable ClientCallStreamObserver<StreamRequest> call;

			@Override
			public void beforeStart(ClientCallStreamObserver<StreamRequest> call) {
				this.call = call;
			}

			@Override
			public void onNext(StreamReply reply) {
				results.onNext(reply);
				if (JavaPeer.this.ending && this.call != null) {
					// the pattern's own end: stop the download rather than wait for the rest
					this.call.cancel("the pattern ended", null);
				}
			}

			@Override
			public void onError(Throwable error) {
				results.onError(error);
			}

			@Override
			public void onCompleted() {
				results.onCompleted();
			}

		});
	}

	private void upload(TestServiceGrpc.TestServiceStub stub, Runnable done) {
		stub.echo(EchoRequest.newBuilder().setText("u").setPayload(ByteString.copyFrom(new byte[key("size", 1 << 20)])).build(),
				observer(done, null, (reply) -> 1));
	}

	/**
	 * {@code streams} Chat calls each sending {@code rate} small messages a second, half-closed at
	 * the end. A message is skipped while the call is not ready (flow control), as a client that
	 * sends what the server can take would do: otherwise a loaded machine builds up a backlog.
	 */
	private void bidi(int streams, int rate) throws InterruptedException {
		TestServiceGrpc.TestServiceStub stub = stubs().get(0);
		Semaphore inFlight = new Semaphore(streams);
		List<ClientCallStreamObserver<EchoRequest>> senders = new CopyOnWriteArrayList<>();
		for (int i = 0; i < streams; i++) {
			inFlight.acquire();
			StreamObserver<EchoReply> replies = observer(inFlight::release, null, (reply) -> 1);
			stub.chat(new ClientResponseObserver<EchoRequest, EchoReply>() {

				@Override
				public void beforeStart(ClientCallStreamObserver<EchoRequest> sender) {
					senders.add(sender);
				}

				@Override
				public void onNext(EchoReply reply) {
					replies.onNext(reply);
				}

				@Override
				public void onError(Throwable error) {
					replies.onError(error);
				}

				@Override
				public void onCompleted() {
					replies.onCompleted();
				}

			});
		}
		long periodMicros = Math.max(1, 1_000_000L / rate);
		for (ClientCallStreamObserver<EchoRequest> sender : senders) {
			this.scheduler.scheduleWithFixedDelay(() -> {
				synchronized (sender) {
					if (!this.ending && sender.isReady()) {
						sender.onNext(EchoRequest.newBuilder().setText("b").build());
					}
				}
			}, 0, periodMicros, TimeUnit.MICROSECONDS);
		}
		Thread.sleep(this.duration.toMillis());
		this.ending = true;
		for (ClientCallStreamObserver<EchoRequest> sender : senders) {
			synchronized (sender) {
				sender.onCompleted();
			}
		}
		if (!inFlight.tryAcquire(streams, 30, TimeUnit.SECONDS)) {
			this.tally.fail("UNFINISHED", (streams - inFlight.availablePermits()) + " Chat call(s) not ended 30 s after the half-close");
		}
	}

	/** One connection kept open by keepalive PINGs, with one held Stream call unless {@code withcall=0}. */
	private void idle() throws InterruptedException {
		ManagedChannel channel = newChannel();
		Semaphore done = new Semaphore(0);
		if (key("withcall", 1) == 1) {
			TestServiceGrpc.newStub(channel)
				.stream(StreamRequest.newBuilder().setCount(0).setHoldMillis(this.duration.toMillis()).build(),
						observer(done::release, null, (reply) -> 1));
		}
		else {
			channel.getState(true);
			this.scheduler.schedule((Runnable) done::release, this.duration.toMillis(), TimeUnit.MILLISECONDS);
			this.tally.ok.increment();
		}
		if (!done.tryAcquire(this.duration.toMillis() + 30_000, TimeUnit.MILLISECONDS)) {
			this.tally.fail("UNFINISHED", "the held call did not end");
		}
	}

	/** Clients that come and go: a new channel every second, a few calls on it, then an orderly shutdown. */
	private void churn() throws InterruptedException {
		long end = System.nanoTime() + this.duration.toNanos();
		while (System.nanoTime() < end) {
			ManagedChannel channel = newChannel();
			Semaphore done = new Semaphore(0);
			TestServiceGrpc.TestServiceStub stub = TestServiceGrpc.newStub(channel);
			for (int i = 0; i < 5; i++) {
				unary(stub, done::release);
			}
			if (!done.tryAcquire(5, 30, TimeUnit.SECONDS)) {
				this.tally.fail("UNFINISHED", "calls of a short-lived client did not end");
			}
			channel.shutdown();
			this.channels.remove(channel);
			Thread.sleep(1000);
		}
	}

	private <T> StreamObserver<T> observer(Runnable done, Status.@Nullable Code expected,
			java.util.function.ToIntFunction<T> messageCount) {
		return new StreamObserver<>() {

			@Override
			public void onNext(T value) {
				JavaPeer.this.tally.messages.add(messageCount.applyAsInt(value));
			}

			@Override
			public void onError(Throwable error) {
				Status status = Status.fromThrowable(error);
				if (status.getCode() == expected
						|| (JavaPeer.this.ending && status.getCode() == Status.Code.CANCELLED && "download".equals(JavaPeer.this.pattern))) {
					JavaPeer.this.tally.expected(status.getCode().name());
				}
				else {
					JavaPeer.this.tally.fail(status.getCode().name(), status.toString());
				}
				done.run();
			}

			@Override
			public void onCompleted() {
				JavaPeer.this.tally.ok.increment();
				done.run();
			}

		};
	}

	/** The counts of one run, updated from any thread. */
	private static final class Tally {

		final LongAdder ok = new LongAdder();

		final LongAdder messages = new LongAdder();

		final Map<String, LongAdder> expected = new ConcurrentHashMap<>();

		final Map<String, LongAdder> failed = new ConcurrentHashMap<>();

		final List<String> failures = new CopyOnWriteArrayList<>();

		void expected(String code) {
			this.expected.computeIfAbsent(code, (key) -> new LongAdder()).increment();
		}

		void fail(String code, String detail) {
			this.failed.computeIfAbsent(code, (key) -> new LongAdder()).increment();
			if (this.failures.size() < 5) {
				this.failures.add(detail);
			}
		}

		CellResult result(String peer, String pattern) {
			return new CellResult(peer, this.ok.sum(), sums(this.expected), sums(this.failed), List.copyOf(this.failures),
					this.messages.sum(), null);
		}

		private static Map<String, Long> sums(Map<String, LongAdder> counts) {
			Map<String, Long> sums = new TreeMap<>();
			counts.forEach((code, count) -> sums.put(code, count.sum()));
			return sums;
		}

	}

}
