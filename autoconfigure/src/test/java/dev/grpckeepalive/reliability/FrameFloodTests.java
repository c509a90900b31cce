package dev.grpckeepalive.reliability;

import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.RawHttp2Attacker.Mode;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliability scenario 10 (continued): floods grpc-java puts no bound on, closed by the
 * frame observer's limits with their defaults, while a well-behaved grpc-java client on its
 * own connection keeps working; and the legitimate heavy traffic that must never trip them.
 */
@Tag("reliability")
// one attack at a time: attacks running side by side starve the servers and one another on two cores
@Execution(ExecutionMode.SAME_THREAD)
@ExtendWith(OutputCaptureExtension.class)
class FrameFloodTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	private static final String ABUSE_LOG_LINE = "closed by an HTTP/2 abuse limit";

	private static final Duration FLOOD = Duration.ofSeconds(60);

	@ParameterizedTest(name = "{0} is closed as abuse by {1}")
	@CsvSource({ "PING_ACK_FLOOD, max-unsolicited-ping-acks", "SETTINGS_FLOOD, max-settings-frames",
			"EMPTY_DATA_FLOOD, max-consecutive-empty-frames", "WINDOW_UPDATE_FLOOD, max-window-update-frames",
			// the attacker's calls earn credit, and its flood still outruns it
			"EARNED_WINDOW_UPDATE_FLOOD, max-window-update-frames" })
	void aFloodIsClosedAsAbuseWhileAGoodClientSeesNothing(Mode mode, String limit, CapturedOutput output)
			throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			try (GoodClient good = GoodClient.start(server.getPort())) {
				RawHttp2Attacker.Report report = RawHttp2Attacker.attack(server.getPort(), mode)
					.duration(Duration.ofSeconds(10))
					.run();
				ConnectionSnapshot attacker = awaitAbuseClose(server.getConnections());
				report(mode + ": " + report + "; server recorded " + attacker.closeReason() + " by "
						+ attacker.abuseLimit() + "; good client " + good.summary());

				assertThat(attacker.closeReason()).isEqualTo(CloseReason.ABUSE);
				assertThat(attacker.abuseLimit()).isEqualTo(limit);
				assertThat(attacker.lastGoAwaySent().errorName()).isEqualTo("ENHANCE_YOUR_CALM");
				// closed within a fraction of a second of the limit; bounded generously for a cold JVM on 2 cores
				assertThat(report.firstClose()).isNotNull().isLessThan(Duration.ofSeconds(5));
				assertThat(report.goAways()).allSatisfy((goAway) -> assertThat(goAway.debugData()).isEqualTo(limit));
				assertThat(good.failures()).as("good client failures").isZero();
				assertThat(good.calls()).isPositive();
			}
			assertThat(server.getConnections().closedConnections(CloseReason.ABUSE)).isEqualTo(1);
		}
		// one WARN per minute at most, in this JVM: an earlier flood may already have written this minute's
		assertThat(countLines(output, ABUSE_LOG_LINE)).isLessThanOrEqualTo(1);
	}

	@Test
	void aReconnectingFlooderIsClosedEveryTimeAndLogsOneLine(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(server.getPort(), Mode.SETTINGS_FLOOD)
				.duration(Duration.ofSeconds(3))
				.reconnect(true)
				.run();
			ConnectionTrackerView connections = server.getConnections();
			await().atMost(Duration.ofSeconds(5)).until(() -> connections.activeConnections() == 0);
			report("reconnecting SETTINGS flood for 3 s: " + report + "; closed as abuse "
					+ connections.closedConnections(CloseReason.ABUSE) + ", abuse WARN lines "
					+ countLines(output, ABUSE_LOG_LINE));
			assertThat(report.connections()).isGreaterThan(5);
			assertThat(connections.closedConnections(CloseReason.ABUSE)).isGreaterThanOrEqualTo(report.connections() - 1);
			assertThat(countLines(output, ABUSE_LOG_LINE)).isLessThanOrEqualTo(1);
		}
	}

	@Test
	void heavyLegitimateTrafficNeverTripsTheDefaults() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server()) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			// BDP PINGs are on by default in grpc-java's Netty channel: they, and their ACKs, run all along
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
			try {
				AtomicLong bytes = new AtomicLong();
				CountDownLatch downloads = new CountDownLatch(8);
				for (int i = 0; i < 8; i++) {
					TestServiceGrpc.newStub(channel)
						.withDeadlineAfter(3, TimeUnit.SECONDS)
						.stream(StreamRequest.newBuilder().setCount(1_000_000).setPayloadSize(64 * 1024).build(),
								new CountingObserver(bytes, downloads));
				}
				// unary calls beside the downloads, many at once: queued over max-concurrent-calls-per-connection
				List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
				CountDownLatch unary = new CountDownLatch(300);
				for (int i = 0; i < 300; i++) {
					TestServiceGrpc.newStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).echo(HELLO,
							new UnaryObserver(unary, failures));
				}
				assertThat(unary.await(25, TimeUnit.SECONDS)).isTrue();
				assertThat(downloads.await(10, TimeUnit.SECONDS)).isTrue();
				ConnectionTrackerView connections = server.getConnections();
				report("legitimate: 8 downloads (" + bytes.get() / (1 << 20) + " MiB in 3 s) and 300 unary calls on one "
						+ "connection; BDP PINGs acked " + connections.pings().acked() + "; closed as abuse "
						+ connections.closedConnections(CloseReason.ABUSE));
				assertThat(failures).isEmpty();
				assertThat(bytes.get()).isGreaterThan(10L << 20);
				assertThat(connections.closedConnections(CloseReason.ABUSE)).isZero();
				assertThat(connections.activeConnections()).isEqualTo(1);
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	@Test
	void connectionsOverTheCapAreRefusedAtAcceptAndCounted() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.server("limits.max-connections=3")) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			List<Socket> sockets = new ArrayList<>();
			try {
				for (int i = 0; i < 6; i++) {
					sockets.add(new Socket(InetAddress.getLoopbackAddress(), server.getPort()));
				}
				ConnectionTrackerView connections = server.getConnections();
				await().atMost(Duration.ofSeconds(5)).until(() -> connections.refusedConnections() == 3);
				assertThat(connections.activeConnections()).isEqualTo(3);
				report("6 sockets against limits.max-connections=3: " + connections.activeConnections() + " open, "
						+ connections.refusedConnections() + " refused");
			}
			finally {
				for (Socket socket : sockets) {
					socket.close();
				}
			}
			await().atMost(Duration.ofSeconds(5)).until(() -> server.getConnections().activeConnections() == 0);
			assertThat(TestApps.echoOnNewChannel(server.getPort())).isEqualTo("hello");
		}
	}

	/**
	 * The heap bound: a server with a small heap, in a JVM of its own, under a stream
	 * flood that reconnects for a minute (HEADERS to a unary method, never ended). Without
	 * {@code max-concurrent-calls-per-connection} such a flood holds about 1.5 KiB per open call
	 * and fills 96 MiB in seconds; with the defaults each connection holds at most 100 calls
	 * until {@code max-rst-frames} closes it.
	 */
	@Test
	void aMinuteOfStreamFloodLeavesASmallHeapServerAvailable() throws Exception {
		// port 0: a port picked beforehand can be taken meanwhile by one of the many client sockets
		// the floods open (it is ephemeral), and the server would never start
		try (dev.grpckeepalive.test.ChildJvm server = dev.grpckeepalive.test.ChildJvm.start("flooded-server",
				List.of(), "96m", PeerProcess.class, "server", "0")) {
			int port = server.await("ready", Duration.ofSeconds(60)).read("$.grpcPort", Integer.class);
			server.send("heap");
			long before = server.await("heap", Duration.ofSeconds(10)).read("$.used", Long.class);
			long frames = 0;
			int connections = 0;
			try (GoodClient good = GoodClient.start(port)) {
				long end = System.nanoTime() + FLOOD.toNanos();
				while (System.nanoTime() < end) {
					RawHttp2Attacker.Report report = RawHttp2Attacker.attack(port, Mode.STREAM_FLOOD)
						.duration(Duration.ofNanos(Math.min(Duration.ofSeconds(10).toNanos(), end - System.nanoTime())))
						.reconnect(true)
						.run();
					frames += report.framesSent();
					connections += report.connections();
				}
				server.send("heap");
				DocumentContext heap = server.await("heap", Duration.ofSeconds(10));
				long after = heap.read("$.used", Long.class);
				report("stream flood, reconnecting, " + FLOOD.toSeconds() + " s against a server with -Xmx96m: " + frames
						+ " frames on " + connections + " connections; server heap after GC " + before / (1 << 20)
						+ " MiB before, " + after / (1 << 20) + " MiB after; good client " + good.summary());
				assertThat(good.failures()).as("good client failures").isZero();
				assertThat(good.calls()).isPositive();
				assertThat(after).as("heap after the flood").isLessThan(before + (32L << 20));
			}
		}
	}

	private static ConnectionSnapshot awaitAbuseClose(ConnectionTrackerView connections) {
		await().atMost(Duration.ofSeconds(5))
			.until(() -> connections.recentlyClosed().stream().anyMatch((c) -> c.closeReason() == CloseReason.ABUSE));
		return connections.recentlyClosed()
			.stream()
			.filter((c) -> c.closeReason() == CloseReason.ABUSE)
			.findFirst()
			.orElseThrow();
	}

	private static long countLines(CapturedOutput output, String text) {
		return output.getOut().lines().filter((line) -> line.contains(text)).count();
	}

	private static void report(String figures) {
		System.out.println("[scenario 10, HTTP/2 abuse] " + figures);
	}

	/** Unary calls on a connection of its own, one after another, until closed. */
	private static final class GoodClient implements AutoCloseable {

		private final ManagedChannel channel;

		private final AtomicBoolean running = new AtomicBoolean(true);

		private final AtomicLong calls = new AtomicLong();

		private final AtomicLong failures = new AtomicLong();

		private final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());

		private final Thread thread;

		private GoodClient(int port) {
			this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
			this.thread = new Thread(() -> {
				TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(this.channel);
				while (this.running.get()) {
					long start = System.nanoTime();
					try {
						stub.withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO);
						this.latencies.add(System.nanoTime() - start);
					}
					catch (StatusRuntimeException ex) {
						this.failures.incrementAndGet();
					}
					this.calls.incrementAndGet();
				}
			}, "good-client");
		}

		static GoodClient start(int port) {
			GoodClient client = new GoodClient(port);
			TestServiceGrpc.newBlockingStub(client.channel).withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO);
			client.thread.start();
			return client;
		}

		long calls() {
			return this.calls.get();
		}

		long failures() {
			return this.failures.get();
		}

		String summary() {
			List<Long> sorted;
			synchronized (this.latencies) {
				sorted = new ArrayList<>(this.latencies);
			}
			Collections.sort(sorted);
			long p99 = sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, sorted.size() * 0.99));
			return this.calls.get() + " calls, " + this.failures.get() + " failed, p99 " + p99 / 1_000_000 + " ms";
		}

		@Override
		public void close() throws InterruptedException {
			this.running.set(false);
			this.thread.join(10_000);
			this.channel.shutdownNow();
		}

	}

	private record CountingObserver(AtomicLong bytes, CountDownLatch done) implements StreamObserver<StreamReply> {

		@Override
		public void onNext(StreamReply value) {
			this.bytes.addAndGet(value.getPayload().size());
		}

		@Override
		public void onError(Throwable t) {
			// the deadline ends each download
			this.done.countDown();
		}

		@Override
		public void onCompleted() {
			this.done.countDown();
		}

	}

	private record UnaryObserver(CountDownLatch done, List<Throwable> failures)
			implements StreamObserver<dev.grpckeepalive.test.proto.EchoReply> {

		@Override
		public void onNext(dev.grpckeepalive.test.proto.EchoReply value) {
		}

		@Override
		public void onError(Throwable t) {
			this.failures.add(t);
			this.done.countDown();
		}

		@Override
		public void onCompleted() {
			this.done.countDown();
		}

	}

}
