package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 5, connection cycling under load: a server with {@code max-connection-age: 2s}
 * and a grace of 5s, a client sending about 200 unary RPCs per second and keeping 10
 * streams open for 60s. Every 2s the server retires the connection; the client moves to a
 * new one. No unary RPC may fail; streams that end within the grace complete, streams
 * longer than the grace are cut at its end and fail with {@code UNAVAILABLE}.
 */
@Tag("reliability")
// The two load scenarios would starve each other on a small machine: one at a time.
@ResourceLock("reliability-load")
class ConnectionCyclingTests {

	private static final String SCENARIO = "Scenario 5 (connection cycling under load)";

	private static final Duration LOAD = Duration.ofSeconds(60);

	private static final Duration MAX_AGE = Duration.ofSeconds(2);

	private static final Duration GRACE = Duration.ofSeconds(5);

	/** One unary RPC every 5ms: 200 per second. */
	private static final long UNARY_PERIOD_MICROS = 5_000;

	/** At most this many unary RPCs in flight; a tick that finds them all busy sends nothing (and is counted). */
	private static final int MAX_UNARY_IN_FLIGHT = 100;

	private static final int SHORT_STREAM_SLOTS = 6;

	private static final int LONG_STREAM_SLOTS = 4;

	private static final long STREAM_MESSAGE_INTERVAL_MILLIS = 500;

	/** Longer than the grace: a connection retired at most 2.2s (age plus jitter) after the stream began cuts it. */
	private static final Duration LONG_STREAM = Duration.ofSeconds(10);

	@Test
	void unaryRpcsSurviveCyclingAndOnlyStreamsLongerThanTheGraceFail() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server("address=127.0.0.1",
				"max-connection-age=" + MAX_AGE.toSeconds() + "s", "max-connection-age-grace=" + GRACE.toSeconds() + "s");
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + TestApps.port(server))) {
			ConnectionTrackerView connections = server.getBean(KeepAliveGrpcServer.class).getConnections();
			TestServiceGrpc.TestServiceStub stub = TestApps.asyncStub(client);
			stub.withDeadlineAfter(5, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("warm-up").build(), new Unary(new Semaphore(1), new UnaryCounts()));
			long openedBefore = connections.openedConnections();
			long maxAgeClosesBefore = connections.closedConnections(CloseReason.MAX_AGE);
			Load load = new Load(stub);

			load.run(LOAD);

			long opened = connections.openedConnections() - openedBefore;
			long maxAgeCloses = connections.closedConnections(CloseReason.MAX_AGE) - maxAgeClosesBefore;
			System.out.printf("%s: %d s of load; unary %s; streams %s; server connections opened %d, closed for "
					+ "max_age %d, by reason %s%n", SCENARIO, LOAD.toSeconds(), load.unary, load.streams, opened,
					maxAgeCloses, closedByReason(connections));
			assertThat(load.unary.failedByCode).as("failed unary RPCs").isEmpty();
			assertThat(load.unary.ok.sum()).isEqualTo(load.unary.sent.sum());
			// about 200/s for 60s; a loaded machine may fall behind, but not by half
			assertThat(load.unary.sent.sum()).isGreaterThan(6_000);
			assertThat(load.streams.outcomes("short")).as("streams shorter than the grace")
				.containsOnlyKeys("OK")
				.hasEntrySatisfying("OK", (count) -> assertThat(count).isGreaterThan(60));
			assertThat(load.streams.outcomes("long")).as("streams longer than the grace")
				.containsOnlyKeys("UNAVAILABLE")
				.hasEntrySatisfying("UNAVAILABLE", (count) -> assertThat(count).isGreaterThan(20));
			// cut when the grace ran out, a grace that began at most one jittered age (2.2s) after their start
			assertThat(load.streams.shortestFailedMillis.get()).isGreaterThan(GRACE.minusSeconds(1).toMillis());
			assertThat(load.streams.longestFailedMillis.get()).isLessThan(MAX_AGE.plus(GRACE).plusSeconds(3).toMillis());
			// a new connection about every 2s (1.8s to 2.2s with jitter), for 60s and the streams' drain
			assertThat(opened).isBetween(20L, 45L);
			assertThat(maxAgeCloses).isGreaterThanOrEqualTo(20L);
		}
	}

	private static Map<String, Long> closedByReason(ConnectionTrackerView connections) {
		Map<String, Long> closed = new TreeMap<>();
		for (CloseReason reason : CloseReason.values()) {
			if (connections.closedConnections(reason) > 0) {
				closed.put(reason.tag(), connections.closedConnections(reason));
			}
		}
		return closed;
	}

	/** The paced unary load and the stream slots, for a fixed time, then until every call has ended. */
	private static final class Load {

		private final TestServiceGrpc.TestServiceStub stub;

		private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "cycling-load");
			thread.setDaemon(true);
			return thread;
		});

		private final Semaphore unaryInFlight = new Semaphore(MAX_UNARY_IN_FLIGHT);

		private final UnaryCounts unary = new UnaryCounts();

		private final StreamCounts streams = new StreamCounts();

		private final AtomicInteger openStreams = new AtomicInteger();

		private final Random random = new Random(5);

		private volatile long endNanos;

		Load(TestServiceGrpc.TestServiceStub stub) {
			this.stub = stub;
		}

		void run(Duration duration) throws InterruptedException {
			this.endNanos = System.nanoTime() + duration.toNanos();
			for (int slot = 0; slot < SHORT_STREAM_SLOTS + LONG_STREAM_SLOTS; slot++) {
				startStream(slot < SHORT_STREAM_SLOTS);
			}
			this.scheduler.scheduleAtFixedRate(this::sendUnary, 0, UNARY_PERIOD_MICROS, TimeUnit.MICROSECONDS);
			Thread.sleep(duration.toMillis());
			this.scheduler.shutdown();
			this.scheduler.awaitTermination(5, TimeUnit.SECONDS);
			// long streams begun at the very end fail at the end of their grace, within about 7s
			await().atMost(LONG_STREAM.plusSeconds(10))
				.until(() -> this.openStreams.get() == 0
						&& this.unaryInFlight.availablePermits() == MAX_UNARY_IN_FLIGHT);
		}

		private void sendUnary() {
			if (!this.unaryInFlight.tryAcquire()) {
				this.unary.skipped.increment();
				return;
			}
			this.unary.sent.increment();
			this.stub.withDeadlineAfter(10, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("load").build(), new Unary(this.unaryInFlight, this.unary));
		}

		/** Starts a stream in a slot that starts its successor when it ends, until the load is over. */
		private void startStream(boolean shortStream) {
			if (System.nanoTime() - this.endNanos >= 0) {
				return;
			}
			long lengthMillis = shortStream ? 1_000 + this.random.nextInt(4) * 500L : LONG_STREAM.toMillis();
			StreamRequest request = StreamRequest.newBuilder()
				.setCount((int) (lengthMillis / STREAM_MESSAGE_INTERVAL_MILLIS))
				.setIntervalMillis(STREAM_MESSAGE_INTERVAL_MILLIS)
				.build();
			String kind = shortStream ? "short" : "long";
			this.openStreams.incrementAndGet();
			this.streams.started(kind);
			long startedAt = System.nanoTime();
			this.stub.stream(request, new StreamObserver<StreamReply>() {

				@Override
				public void onNext(StreamReply reply) {
				}

				@Override
				public void onError(Throwable error) {
					ended(Status.fromThrowable(error));
				}

				@Override
				public void onCompleted() {
					ended(Status.OK);
				}

				private void ended(Status status) {
					long lifetimeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
					Load.this.streams.ended(kind, status, lifetimeMillis);
					Load.this.openStreams.decrementAndGet();
					startStream(shortStream);
				}

			});
		}

	}

	private static final class Unary implements StreamObserver<EchoReply> {

		private final Semaphore inFlight;

		private final UnaryCounts counts;

		private final long startedAt = System.nanoTime();

		Unary(Semaphore inFlight, UnaryCounts counts) {
			this.inFlight = inFlight;
			this.counts = counts;
		}

		@Override
		public void onNext(EchoReply reply) {
		}

		@Override
		public void onError(Throwable error) {
			Status status = Status.fromThrowable(error);
			this.counts.failedByCode.computeIfAbsent(status.getCode() + ": " + status.getDescription(),
					(code) -> new LongAdder()).increment();
			ended();
		}

		@Override
		public void onCompleted() {
			this.counts.ok.increment();
			ended();
		}

		private void ended() {
			long latencyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.startedAt);
			this.counts.maxLatencyMillis.accumulateAndGet(latencyMillis, Math::max);
			if (latencyMillis >= 100) {
				this.counts.slow.increment();
			}
			this.inFlight.release();
		}

	}

	private static final class UnaryCounts {

		final LongAdder sent = new LongAdder();

		final LongAdder ok = new LongAdder();

		final LongAdder skipped = new LongAdder();

		/** RPCs that took 100ms or more, and the slowest: what a retired connection costs the unary load. */
		final LongAdder slow = new LongAdder();

		final AtomicLong maxLatencyMillis = new AtomicLong();

		final Map<String, LongAdder> failedByCode = new ConcurrentHashMap<>();

		@Override
		public String toString() {
			return "sent " + this.sent + ", OK " + this.ok + ", failed " + this.failedByCode + ", ticks skipped "
					+ "(in-flight bound reached) " + this.skipped + ", slower than 100 ms " + this.slow + ", slowest "
					+ this.maxLatencyMillis + " ms";
		}

	}

	private static final class StreamCounts {

		private final Map<String, LongAdder> started = new ConcurrentHashMap<>();

		/** "kind code" to count. */
		private final Map<String, LongAdder> ended = new ConcurrentHashMap<>();

		private final Map<String, String> examples = new ConcurrentHashMap<>();

		final AtomicLong shortestFailedMillis = new AtomicLong(Long.MAX_VALUE);

		final AtomicLong longestFailedMillis = new AtomicLong();

		final AtomicLong longestOkMillis = new AtomicLong();

		void started(String kind) {
			this.started.computeIfAbsent(kind, (key) -> new LongAdder()).increment();
		}

		void ended(String kind, Status status, long lifetimeMillis) {
			this.ended.computeIfAbsent(kind + " " + status.getCode(), (key) -> new LongAdder()).increment();
			if (status.isOk()) {
				this.longestOkMillis.accumulateAndGet(lifetimeMillis, Math::max);
			}
			else {
				this.examples.putIfAbsent(kind + " " + status.getCode(), String.valueOf(status.getDescription()));
				this.shortestFailedMillis.accumulateAndGet(lifetimeMillis, Math::min);
				this.longestFailedMillis.accumulateAndGet(lifetimeMillis, Math::max);
			}
		}

		/** Ended streams of one kind by status code. */
		Map<String, Long> outcomes(String kind) {
			Map<String, Long> outcomes = new TreeMap<>();
			this.ended.forEach((key, count) -> {
				if (key.startsWith(kind + " ")) {
					outcomes.put(key.substring(kind.length() + 1), count.sum());
				}
			});
			return outcomes;
		}

		@Override
		public String toString() {
			return "started " + new TreeMap<>(this.started) + ", ended " + new TreeMap<>(this.ended)
					+ ", longest OK " + this.longestOkMillis + " ms, failed after " + this.shortestFailedMillis + " to "
					+ this.longestFailedMillis + " ms, failure descriptions " + this.examples;
		}

	}

}
