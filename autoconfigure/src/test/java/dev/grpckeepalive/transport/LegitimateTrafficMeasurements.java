package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.grpckeepalive.test.Http2FrameLog.Direction;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * What well-behaved grpc-java clients send, counted frame by frame through a
 * {@link SniffingTcpProxy}: the other side of the abuse limits (docs/security.md). A limit
 * must sit well above these. On demand only, like {@link AttackMeasurements}:
 * <pre>
 * ./mvnw -B -pl autoconfigure test -Dtest=LegitimateTrafficMeasurements -Dsurefire.failIfNoSpecifiedTests=false -Dlegit=true
 * </pre>
 */
@EnabledIfSystemProperty(named = "legit", matches = "true")
class LegitimateTrafficMeasurements {

	private static final Duration RUN = Duration.ofSeconds(5);

	@Test
	void measure() throws Exception {
		List<String> results = new ArrayList<>();
		results.add(deadlineStorm());
		if (!Boolean.getBoolean("legit.storm-only")) {
			results.add(download());
			results.add(manyStreamsOnOneConnection("", 1000));
			results.add(manyStreamsOnOneConnection("limits.max-concurrent-calls-per-connection=-1", 1000));
		}
		System.out.println("\n===== legitimate traffic, frames per connection =====");
		results.forEach(System.out::println);
	}

	/**
	 * 64 callers, each unary call with a 10 ms deadline on a 20 ms method: every call is
	 * cancelled, by the client's RST_STREAM or by the server's own deadline. Against the defaults.
	 */
	private String deadlineStorm() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server();
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(app))) {
			ManagedChannel channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
			AtomicLong calls = new AtomicLong();
			AtomicLong deadlineExceeded = new AtomicLong();
			ExecutorService callers = Executors.newFixedThreadPool(64);
			long end = System.nanoTime() + RUN.toNanos();
			try {
				TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);
				for (int i = 0; i < 64; i++) {
					callers.execute(() -> {
						while (System.nanoTime() < end) {
							calls.incrementAndGet();
							try {
								stub.withDeadlineAfter(10, TimeUnit.MILLISECONDS)
									.echo(EchoRequest.newBuilder().setText("x").setDelayMillis(20).build());
							}
							catch (StatusRuntimeException ex) {
								if (ex.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
									deadlineExceeded.incrementAndGet();
								}
							}
						}
					});
				}
				callers.shutdown();
				callers.awaitTermination(RUN.toSeconds() + 10, TimeUnit.SECONDS);
				Thread.sleep(200);
			}
			finally {
				callers.shutdownNow();
				channel.shutdownNow();
			}
			return "deadline storm, 64 callers, 10 ms deadline on a 20 ms call, " + RUN.toSeconds() + " s: " + calls
					+ " calls, " + deadlineExceeded + " DEADLINE_EXCEEDED, " + proxy.connections() + " connection(s), "
					+ app.getBean(dev.grpckeepalive.server.KeepAliveGrpcServer.class)
						.getConnections()
						.closedConnections(dev.grpckeepalive.connection.CloseReason.ABUSE)
					+ " closed as abuse " + app.getBean(dev.grpckeepalive.server.KeepAliveGrpcServer.class)
						.getConnections()
						.recentlyClosed()
						.stream()
						.map((closed) -> closed.abuseLimit())
						.toList()
					+ "\n  client->server " + proxy.frames().counts(Direction.CLIENT_TO_SERVER) + "\n  server->client "
					+ proxy.frames().counts(Direction.SERVER_TO_CLIENT);
		}
	}

	/** 8 server streams at once, 64 KiB messages as fast as flow control allows: what a downloading client sends back. */
	private String download() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server();
				SniffingTcpProxy proxy = new SniffingTcpProxy(TestApps.port(app))) {
			ManagedChannel channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
			AtomicLong bytes = new AtomicLong();
			CountDownLatch done = new CountDownLatch(8);
			long start = System.nanoTime();
			try {
				for (int i = 0; i < 8; i++) {
					TestServiceGrpc.newStub(channel)
						.withDeadlineAfter(RUN.toMillis(), TimeUnit.MILLISECONDS)
						.stream(StreamRequest.newBuilder().setCount(1_000_000).setPayloadSize(64 * 1024).build(),
								new Observer(bytes, done));
				}
				done.await(RUN.toSeconds() + 10, TimeUnit.SECONDS);
			}
			finally {
				channel.shutdownNow();
			}
			double seconds = (System.nanoTime() - start) / 1e9;
			return String.format("download, 8 streams of 64 KiB messages for %d s: %.0f MiB/s, %d connection(s)%n"
					+ "  client->server %s%n  server->client %s", RUN.toSeconds(), bytes.get() / seconds / (1 << 20),
					proxy.connections(), proxy.frames().counts(Direction.CLIENT_TO_SERVER),
					proxy.frames().counts(Direction.SERVER_TO_CLIENT));
		}
	}

	/** {@code calls} server-streaming calls started at once on one connection, each 5 messages 20 ms apart. */
	private String manyStreamsOnOneConnection(String serverProperty, int calls) throws Exception {
		String[] properties = serverProperty.isEmpty() ? new String[0] : new String[] { serverProperty };
		try (ConfigurableApplicationContext app = TestApps.server(properties)) {
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", TestApps.port(app))
				.usePlaintext()
				.build();
			AtomicLong messages = new AtomicLong();
			List<Status> statuses = new ArrayList<>();
			CountDownLatch done = new CountDownLatch(calls);
			long start = System.nanoTime();
			try {
				for (int i = 0; i < calls; i++) {
					TestServiceGrpc.newStub(channel)
						.withDeadlineAfter(30, TimeUnit.SECONDS)
						.stream(StreamRequest.newBuilder().setCount(5).setIntervalMillis(20).build(),
								new Observer(messages, done) {

									@Override
									public void onCompleted() {
										synchronized (statuses) {
											statuses.add(Status.OK);
										}
										super.onCompleted();
									}

									@Override
									public void onError(Throwable error) {
										synchronized (statuses) {
											statuses.add(Status.fromThrowable(error));
										}
										super.onError(error);
									}

								});
				}
				done.await(40, TimeUnit.SECONDS);
			}
			finally {
				channel.shutdownNow();
			}
			long ok = statuses.stream().filter(Status::isOk).count();
			return String.format("%d streaming calls at once on one connection [%s]: %d OK, %d failed %s, %d messages,"
					+ " all done after %d ms", calls, serverProperty, ok, statuses.size() - ok,
					statuses.stream().filter((status) -> !status.isOk()).map(Status::getCode).distinct().toList(),
					messages.get(), (System.nanoTime() - start) / 1_000_000);
		}
	}

	private static class Observer implements StreamObserver<StreamReply> {

		private final AtomicLong counter;

		private final CountDownLatch done;

		Observer(AtomicLong counter, CountDownLatch done) {
			this.counter = counter;
			this.done = done;
		}

		@Override
		public void onNext(StreamReply reply) {
			this.counter.addAndGet(Math.max(reply.getPayload().size(), 1));
		}

		@Override
		public void onError(Throwable error) {
			this.done.countDown();
		}

		@Override
		public void onCompleted() {
			this.done.countDown();
		}

	}

}
