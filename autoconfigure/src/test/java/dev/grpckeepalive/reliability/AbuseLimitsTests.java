package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http2Frames;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.RawHttp2Attacker.Mode;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.UnexpectedPingAckWarnings;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliability scenario 10, HTTP/2 abuse: a raw HTTP/2 client ({@link RawHttp2Attacker})
 * against the starter's server with its default limits ({@code grpc.keepalive.server.limits.*}).
 * Rapid reset must draw {@code GOAWAY ENHANCE_YOUR_CALM max-premature-resets}; a stream flood
 * must stay within {@code max-concurrent-calls-per-connection} and be closed once its refused
 * streams pass {@code max-premature-resets}; a well-behaved grpc-java client with more calls
 * than the limit must queue them, not fail them.
 */
@Tag("reliability")
// one attack at a time: attacks running side by side starve the servers and one another on two cores
@Execution(ExecutionMode.SAME_THREAD)
class AbuseLimitsTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	/** The defaults the tests expect; docs/security.md explains them. */
	private static final int DEFAULT_MAX_PREMATURE_RESETS = 1000;

	private static final String PREMATURE_RESETS = "max-premature-resets";

	private static final int DEFAULT_MAX_CALLS = 100;

	@Test
	void rapidResetIsClosedAsAbuseWithTheDefaults() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			// stops at the GOAWAY; 10 s is only the bound
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(server.getPort(), Mode.RAPID_RESET)
				.duration(Duration.ofSeconds(10))
				.run();
			report("rapid reset: " + report + "; recorded as "
					+ server.getConnections().recentlyClosed().stream().map((record) -> record.closeReason() + " (GOAWAY sent "
							+ ((record.lastGoAwaySent() != null) ? record.lastGoAwaySent().debugData() : "none") + ")").toList());
			// the GOAWAY goes out and the connection closes at once; with the attacker's frames still unread the
			// kernel may reset the socket, which can discard the GOAWAY on its way: the server's record says what it sent
			await().atMost(Duration.ofSeconds(5)).until(() -> !server.getConnections().recentlyClosed().isEmpty());
			assertThat(server.getConnections().recentlyClosed()).singleElement().satisfies((record) -> {
				assertThat(record.closeReason()).isEqualTo(CloseReason.ABUSE);
				assertThat(record.abuseLimit()).isEqualTo(PREMATURE_RESETS);
				assertThat(record.lastGoAwaySent()).isNotNull();
				assertThat(record.lastGoAwaySent().errorName()).isEqualTo("ENHANCE_YOUR_CALM");
				assertThat(record.lastGoAwaySent().debugData()).isEqualTo(PREMATURE_RESETS);
			});
			assertThat(report.goAways()).allSatisfy((goAway) -> {
				assertThat(goAway.errorCode()).isEqualTo(Http2Frames.ENHANCE_YOUR_CALM);
				assertThat(goAway.debugData()).isEqualTo(PREMATURE_RESETS);
			});
			// 1000 resets: 0.1 s with a warm JIT, 1.0-2.0 s in a fresh JVM on a loaded two-core machine
			assertThat(report.firstClose()).isNotNull().isLessThan(Duration.ofSeconds(60));
			assertThat(report.streamsOpened()).isGreaterThan(DEFAULT_MAX_PREMATURE_RESETS);
			assertThat(report.maxConcurrentStreams()).isEqualTo(DEFAULT_MAX_CALLS);
			// the server is none the worse for it
			assertThat(TestApps.echoOnNewChannel(server.getPort())).isEqualTo("hello");
		}
	}

	@Test
	void streamFloodStaysWithinMaxConcurrentCallsAndIsClosed() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			ConnectionTrackerView connections = server.getConnections();
			ActiveCallsSampler sampler = ActiveCallsSampler.start(connections);
			RawHttp2Attacker.Report report;
			try {
				// the close comes after a count of refusals, not at a time: the attack lasts until the server closes
				// (about a second), with room for a loaded server that reads the flood slowly (685 refusals in 10 s)
				report = RawHttp2Attacker.attack(server.getPort(), Mode.STREAM_FLOOD).duration(Duration.ofSeconds(60)).run();
			}
			finally {
				sampler.stop();
			}
			report("stream flood: " + report + "; server: at most " + sampler.max() + " calls in flight");
			assertThat(report.maxConcurrentStreams()).isEqualTo(DEFAULT_MAX_CALLS);
			// grpc-java refuses the streams over the limit, and those refusals count as unanswered resets
			assertThat(report.resetsReceived()).containsKey("REFUSED_STREAM");
			// after max-premature-resets refusals the GOAWAY goes out and the connection closes at once; with
			// the attacker's frames still unread, the kernel may reset the socket and discard the GOAWAY. The close
			// comes at a count, not at a time (a starved server reads the flood slowly: 1000 refusals took 6 s,
			// the close 10.4 s after the start): the attack's own bound is the only time bound, and the count
			// and the limit that closed it are asserted instead
			assertThat(report.firstClose()).isNotNull();
			assertThat(report.goAways()).allSatisfy((goAway) -> {
				assertThat(goAway.errorName()).isEqualTo("ENHANCE_YOUR_CALM");
				assertThat(goAway.debugData()).isEqualTo(PREMATURE_RESETS);
			});
			// closed by the starter's limit, not by grpc-java's max-rst-frames (10 000) nor by anything else...
			await().atMost(Duration.ofSeconds(5)).until(() -> !connections.recentlyClosed().isEmpty());
			assertThat(connections.recentlyClosed()).singleElement().satisfies((record) -> {
				assertThat(record.closeReason()).isEqualTo(CloseReason.ABUSE);
				assertThat(record.abuseLimit()).isEqualTo(PREMATURE_RESETS);
			});
			// ...at the refusal after the limit: the server sent no more refusals than that (fewer may arrive, when
			// the kernel's reset discards the last ones with the GOAWAY)
			assertThat(report.resetsReceived().get("REFUSED_STREAM")).isLessThanOrEqualTo(DEFAULT_MAX_PREMATURE_RESETS + 1);
			assertThat(sampler.max()).isLessThanOrEqualTo(DEFAULT_MAX_CALLS);
		}
	}

	@Test
	void grpcJavaClientQueuesCallsBeyondTheLimitAndAllSucceed() throws Exception {
		int limit = 10;
		int calls = 200;
		try (ConfigurableApplicationContext app = TestApps
			.server("limits.max-concurrent-calls-per-connection=" + limit)) {
			ConnectionTrackerView connections = app.getBean(KeepAliveGrpcServer.class).getConnections();
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", TestApps.port(app)).usePlaintext().build();
			ActiveCallsSampler sampler = ActiveCallsSampler.start(connections);
			try {
				TestServiceGrpc.newBlockingStub(channel).echo(HELLO);
				List<CompletableFuture<Status>> results = new ArrayList<>();
				AtomicInteger messages = new AtomicInteger();
				long start = System.nanoTime();
				for (int i = 0; i < calls; i++) {
					CompletableFuture<Status> result = new CompletableFuture<>();
					results.add(result);
					TestServiceGrpc.newStub(channel)
						.withDeadlineAfter(30, TimeUnit.SECONDS)
						.stream(StreamRequest.newBuilder().setCount(3).setIntervalMillis(20).build(),
								new StatusObserver(result, messages));
				}
				CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(40, TimeUnit.SECONDS);
				long millis = (System.nanoTime() - start) / 1_000_000;
				assertThat(results).allSatisfy((result) -> assertThat(result.get().getCode()).isEqualTo(Status.Code.OK));
				assertThat(messages.get()).isEqualTo(3 * calls);
				assertThat(connections.openedConnections()).isEqualTo(1);
				report("grpc-java client, " + calls + " streaming calls at once, limit " + limit + ": all OK in " + millis
						+ " ms, at most " + sampler.max() + " in flight on the server, 1 connection");
			}
			finally {
				sampler.stop();
				channel.shutdownNow();
			}
			// HTTP/2 admits at most `limit` streams; the starter counts a call as ended when its listener
			// completes, just after its stream closed and freed the slot, so its count may trail by one or two
			assertThat(sampler.max()).isLessThanOrEqualTo(limit + 2);
		}
	}

	@Test
	void metadataOverTheLimitFailsTheCallAndLeavesTheConnection() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", TestApps.port(app)).usePlaintext().build();
			try {
				Metadata big = new Metadata();
				big.put(Metadata.Key.of("x-big", Metadata.ASCII_STRING_MARSHALLER), "x".repeat(16 * 1024));
				TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);
				StatusRuntimeException failure = org.junit.jupiter.api.Assertions.assertThrows(
						StatusRuntimeException.class,
						// a deadline that only bounds a hang: 5 s ran out on a loaded machine
						() -> stub.withDeadlineAfter(30, TimeUnit.SECONDS)
							.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(big))
							.echo(HELLO));
				report("16 KiB of metadata against the default 8KB: " + failure.getStatus());
				assertThat(failure.getStatus().getCode()).isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.INTERNAL);
				// a deadline of its own, as generous
				assertThat(stub.withDeadlineAfter(30, TimeUnit.SECONDS).echo(HELLO).getText()).isEqualTo("hello");
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	@Test
	void eachLimitCanBeTurnedOff() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server("limits.max-rst-frames=-1",
				"limits.max-premature-resets=-1", "limits.max-concurrent-calls-per-connection=-1")) {
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(TestApps.port(app), Mode.RAPID_RESET)
				.duration(Duration.ofSeconds(2))
				.run();
			report("limits off, rapid reset for 2 s: " + report);
			assertThat(report.goAways()).isEmpty();
			assertThat(report.firstClose()).isNull();
			assertThat(report.maxConcurrentStreams()).isEqualTo(Integer.MAX_VALUE);
		}
	}

	@Test
	void unsolicitedPingAcksAreLoggedCondensed() throws Exception {
		UnexpectedPingAckWarnings probe = UnexpectedPingAckWarnings.count();
		// the frame observer's own limit would close the flood after 10 ACKs: this is about grpc-java's WARN per ACK
		try (ConfigurableApplicationContext app = TestApps.server("limits.max-unsolicited-ping-acks=-1")) {
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(TestApps.port(app), Mode.PING_ACK_FLOOD)
				.duration(Duration.ofSeconds(2))
				.run();
			// the server may still be reading what the attacker wrote: it has read it all once it has closed the
			// connection the attacker closed
			ConnectionTrackerView connections = app.getBean(KeepAliveGrpcServer.class).getConnections();
			await().atMost(Duration.ofSeconds(30))
				.until(() -> connections.openedConnections() >= 1 && connections.activeConnections() == 0);
			report("PING ACK flood for 2 s: " + report.framesSent() + " frames; grpc-java's WARN published "
					+ probe.published() + " time(s)");
			assertThat(report.framesSent()).isGreaterThan(10_000);
			// one record per minute passes the JVM's condenser; an earlier flood in this JVM may have used it up
			assertThat(probe.published()).isLessThanOrEqualTo(2);
		}
		finally {
			probe.close();
		}
	}

	private static void report(String figures) {
		System.out.println("[scenario 10, HTTP/2 abuse] " + figures);
	}

	/** Samples the server's calls in flight every millisecond, on a thread of its own, for at most a minute. */
	static final class ActiveCallsSampler {

		private final AtomicLong max = new AtomicLong();

		private final CountDownLatch stopped = new CountDownLatch(1);

		private Thread thread;

		static ActiveCallsSampler start(ConnectionTrackerView connections) {
			ActiveCallsSampler sampler = new ActiveCallsSampler();
			long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
			sampler.thread = new Thread(() -> {
				try {
					while (System.nanoTime() < end && !sampler.stopped.await(1, TimeUnit.MILLISECONDS)) {
						sampler.max.accumulateAndGet(connections.activeCalls(), Math::max);
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}, "active-calls-sampler");
			sampler.thread.setDaemon(true);
			sampler.thread.start();
			return sampler;
		}

		void stop() throws InterruptedException {
			this.stopped.countDown();
			this.thread.join(5000);
		}

		long max() {
			return this.max.get();
		}

	}

	private record StatusObserver(CompletableFuture<Status> result, AtomicInteger messages)
			implements StreamObserver<StreamReply> {

		@Override
		public void onNext(StreamReply reply) {
			this.messages.incrementAndGet();
		}

		@Override
		public void onError(Throwable error) {
			this.result.complete(Status.fromThrowable(error));
		}

		@Override
		public void onCompleted() {
			this.result.complete(Status.OK);
		}

	}

}
