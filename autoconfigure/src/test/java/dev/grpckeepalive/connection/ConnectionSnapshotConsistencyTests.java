package dev.grpckeepalive.connection;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readers never see a connection half-written: connections open, carry calls and close on
 * many threads while readers take snapshots the way the endpoint does, and every snapshot
 * must hold the invariants of {@link ConnectionSnapshot}.
 */
class ConnectionSnapshotConsistencyTests {

	private static final int WRITERS = 6;

	private static final int READERS = 3;

	private static final int CONNECTIONS_PER_WRITER = 3_000;

	@Test
	void snapshotsTakenWhileConnectionsOpenAndCloseAreConsistent() throws Exception {
		ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", Duration.ofMillis(1),
				Duration.ofMillis(2), System::nanoTime, java.time.Clock.systemUTC(), 50);
		ExecutorService threads = Executors.newFixedThreadPool(WRITERS + READERS);
		AtomicBoolean writing = new AtomicBoolean(true);
		Queue<String> violations = new ConcurrentLinkedQueue<>();
		AtomicLong snapshots = new AtomicLong();
		CountDownLatch start = new CountDownLatch(1);
		try {
			List<Future<?>> writers = new java.util.ArrayList<>();
			for (int w = 0; w < WRITERS; w++) {
				int writer = w;
				writers.add(threads.submit(() -> {
					start.await();
					ThreadLocalRandom random = ThreadLocalRandom.current();
					for (int i = 0; i < CONNECTIONS_PER_WRITER; i++) {
						ConnectionRecord record = tracker.connectionOpened(
								new InetSocketAddress("127.0.0.1", 1024 + writer * CONNECTIONS_PER_WRITER + i),
								new InetSocketAddress("127.0.0.1", 9090));
						int calls = random.nextInt(3);
						for (int c = 0; c < calls; c++) {
							record.callStarted();
							record.callEnded();
						}
						switch (random.nextInt(4)) {
							case 0 -> record.goAwaySent(0, "max_age", false);
							case 1 -> record.keepAliveTimedOut();
							case 2 -> record.errorSeen();
							default -> { }
						}
						record.close();
					}
					return null;
				}));
			}
			for (int r = 0; r < READERS; r++) {
				threads.submit(() -> {
					start.await();
					while (writing.get()) {
						for (ConnectionSnapshot open : tracker.view().openConnections()) {
							check(open, violations);
							snapshots.incrementAndGet();
						}
						for (ConnectionSnapshot closed : tracker.view().recentlyClosed()) {
							check(closed, violations);
							if (closed.closeReason() == null) {
								violations.add("in the history without a reason: " + closed);
							}
							snapshots.incrementAndGet();
						}
					}
					return null;
				});
			}
			start.countDown();
			for (Future<?> writer : writers) {
				writer.get(60, TimeUnit.SECONDS);
			}
		}
		finally {
			writing.set(false);
			threads.shutdown();
			assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
		}
		assertThat(violations).as("invariants broken in %d snapshots", snapshots.get()).isEmpty();
		assertThat(snapshots.get()).as("readers ran while writers wrote").isPositive();
		assertThat(tracker.view().activeConnections()).isZero();
		long closed = 0;
		for (CloseReason reason : CloseReason.values()) {
			closed += tracker.view().closedConnections(reason);
		}
		assertThat(closed).isEqualTo((long) WRITERS * CONNECTIONS_PER_WRITER).isEqualTo(tracker.view().openedConnections());
	}

	/**
	 * A snapshot that reports no calls measures idle time from the end of the last call it
	 * counted, never from an activity before it: the writers move the last activity before
	 * they lower the count, so the snapshot reads the count first. A race cannot show the
	 * reverse order (two adjacent reads leave a window of nanoseconds: a writer cycling calls
	 * against a reader caught it in none of ten 3-second runs), so the test ends the call at
	 * the one moment it matters: the snapshot reads its ticker between the count and the
	 * activity, and this ticker ends the call there, an hour after it started. Read in the
	 * right order, the count still shows the call; in the reverse order, the snapshot would
	 * pair the call's start with the count after its end, and report an hour of idle time on
	 * a connection that was busy all along.
	 */
	@Test
	void aSnapshotWithoutCallsMeasuresIdleTimeFromTheLastCallItCounted() {
		AtomicLong now = new AtomicLong();
		AtomicReference<@Nullable Runnable> atNextTick = new AtomicReference<>();
		LongSupplier ticker = () -> {
			Runnable step = atNextTick.getAndSet(null);
			if (step != null) {
				step.run();
			}
			return now.get();
		};
		ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", null, null, ticker,
				java.time.Clock.systemUTC(), 50);
		ConnectionRecord record = tracker.connectionOpened(null, null);
		record.callStarted();
		atNextTick.set(() -> {
			now.addAndGet(Duration.ofHours(1).toNanos());
			record.callEnded();
		});

		ConnectionSnapshot snapshot = record.snapshot();

		assertThat(atNextTick.get()).as("the snapshot read the ticker").isNull();
		assertThat(snapshot.idle()).as("idle time of a connection whose call ended as it was read: %s", snapshot)
			.isLessThan(Duration.ofHours(1));
		assertThat(record.snapshot().activeCalls()).isZero();
		assertThat(record.snapshot().idle()).as("the call ended at the time last read").isZero();
	}

	private static void check(ConnectionSnapshot connection, Queue<String> violations) {
		if (connection.ageNanos() < 0) {
			violations.add("negative age: " + connection);
		}
		if (connection.idleNanos() < 0 || connection.idleNanos() > connection.ageNanos()) {
			violations.add("idle outside [0, age]: " + connection);
		}
		boolean closed = connection.state() == ConnectionState.CLOSED;
		if (closed != (connection.closeReason() != null) || closed != (connection.closedAtMillis() != null)) {
			violations.add("closed without reason or time, or the reverse: " + connection);
		}
		if (connection.activeCalls() < 0) {
			violations.add("negative calls: " + connection);
		}
	}

}
