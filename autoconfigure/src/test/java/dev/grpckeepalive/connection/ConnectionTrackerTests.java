package dev.grpckeepalive.connection;

import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.shutdown.ClosableServerCall;
import dev.grpckeepalive.shutdown.ClosableServerCallTests.FakeCall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/** Tracker timing logic on an injected ticker: no waiting, no wall clock. */
class ConnectionTrackerTests {

	private final AtomicLong now = new AtomicLong(1_000_000_000L);

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server",
			Duration.ofSeconds(10), Duration.ofMinutes(1), this.now::get,
			Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC), 3);

	private final InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);

	private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 9090);

	@Test
	void observerAndTransportFilterShareOneRecordPerConnection() {
		ConnectionRecord fromObserver = this.tracker.connectionOpened(this.remote, this.local);
		ConnectionRecord fromFilter = this.tracker.connectionOpened(this.remote, this.local);

		assertThat(fromFilter).isSameAs(fromObserver);
		assertThat(this.tracker.view().activeConnections()).isEqualTo(1);
		assertThat(this.tracker.view().openedConnections()).isEqualTo(1);
	}

	@Test
	void ageIdleAndStateFollowCalls() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		advance(Duration.ofSeconds(2));
		record.callStarted();
		assertThat(record.snapshot().state()).isEqualTo(ConnectionState.ACTIVE);
		advance(Duration.ofSeconds(3));
		assertThat(record.snapshot().idleNanos()).isZero();
		record.callEnded();
		advance(Duration.ofSeconds(4));

		ConnectionSnapshot snapshot = record.snapshot();
		assertThat(snapshot.age()).isEqualTo(Duration.ofSeconds(9));
		assertThat(snapshot.idle()).isEqualTo(Duration.ofSeconds(4));
		assertThat(snapshot.totalCalls()).isEqualTo(1);
		assertThat(snapshot.state()).isEqualTo(ConnectionState.IDLE);
		assertThat(snapshot.openedAtMillis()).isEqualTo(Instant.parse("2026-11-23T12:00:00Z").toEpochMilli());
		assertThat(snapshot.closeReason()).isNull();
		assertThat(snapshot.closedAtMillis()).isNull();
	}

	@Test
	void goAwayDebugDataNamesTheCloseReason() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.goAwaySent(0, "max_age", false);
		assertThat(record.snapshot().state()).isEqualTo(ConnectionState.DRAINING);
		advance(Duration.ofSeconds(1));
		record.close();
		advance(Duration.ofSeconds(1));
		record.close();

		ConnectionSnapshot closed = record.snapshot();
		assertThat(closed.closeReason()).isEqualTo(CloseReason.MAX_AGE);
		assertThat(closed.state()).isEqualTo(ConnectionState.CLOSED);
		assertThat(closed.age()).as("age stops at the first close").isEqualTo(Duration.ofSeconds(1));
		assertThat(closed.closedAtMillis()).isEqualTo(Instant.parse("2026-11-23T12:00:00Z").toEpochMilli());
		assertThat(closed.lastGoAwaySent().direction()).isEqualTo(GoAway.Direction.SENT);
		assertThat(closed.lastGoAwaySent().reason()).isEqualTo(CloseReason.MAX_AGE);
		assertThat(this.tracker.view().closedConnections(CloseReason.MAX_AGE)).isEqualTo(1);
		assertThat(this.tracker.view().goAwayCount(GoAway.Direction.SENT, "max_age")).isEqualTo(1);
		assertThat(this.tracker.view().activeConnections()).isZero();
	}

	@Test
	void closeWithoutFramesIsInferredFromSettings() {
		ConnectionRecord idle = this.tracker.connectionOpened(this.remote, this.local);
		advance(Duration.ofSeconds(10));
		idle.close();
		ConnectionRecord young = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", 40001), this.local);
		young.callStarted();
		advance(Duration.ofSeconds(1));
		young.close();
		this.tracker.shutdown().start();
		ConnectionRecord last = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", 40002), this.local);
		last.close();

		assertThat(idle.snapshot().closeReason()).isEqualTo(CloseReason.MAX_IDLE);
		assertThat(young.snapshot().closeReason()).isEqualTo(CloseReason.PEER_CLOSED);
		assertThat(last.snapshot().closeReason()).isEqualTo(CloseReason.APP_REQUESTED);
	}

	@Test
	void keepAliveTimeoutAndTooManyPingsAreRememberedForTheWindow() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.keepAliveTimedOut();
		record.goAwayReceived(11, "too_many_pings");

		assertThat(this.tracker.view().keepAliveTimeoutWithin(Duration.ofMinutes(5))).isTrue();
		assertThat(this.tracker.view().tooManyPingsWithin(Duration.ofMinutes(5))).isTrue();
		advance(Duration.ofMinutes(5).plusNanos(1));
		assertThat(this.tracker.view().keepAliveTimeoutWithin(Duration.ofMinutes(5))).isFalse();
		assertThat(this.tracker.view().tooManyPingsWithin(Duration.ofMinutes(5))).isFalse();
		assertThat(record.snapshot().pings().timeouts()).isEqualTo(1);
	}

	@Test
	void findReturnsOpenConnectionsByTheirId() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		assertThat(this.tracker.view().find(record.displayId())).hasValueSatisfying(
				(found) -> assertThat(found.remote()).isEqualTo(this.remote));
		assertThat(this.tracker.view().find("s-999")).isEmpty();
	}

	@Test
	void aClosedConnectionIsKeptAsItsFinalState() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.callStarted();
		record.close();
		// grpc-java may end a call after the transport terminated: the history is not changed by it
		advance(Duration.ofSeconds(5));
		record.callEnded();

		ConnectionSnapshot kept = this.tracker.view().recentlyClosed().get(0);
		assertThat(kept.activeCalls()).isEqualTo(1);
		assertThat(kept.ageNanos()).isZero();
		assertThat(record.snapshot().idleNanos()).as("idle never exceeds age").isZero();
	}

	@Test
	void historyKeepsTheMostRecentlyClosed() {
		List<String> ids = new ArrayList<>();
		for (int port = 1; port <= 5; port++) {
			ConnectionRecord record = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", port), this.local);
			ids.add(record.displayId());
			record.close();
		}
		assertThat(ids).containsExactly("s-1", "s-2", "s-3", "s-4", "s-5");
		assertThat(this.tracker.view().recentlyClosed()).hasSize(3)
			.extracting((record) -> ((InetSocketAddress) record.remote()).getPort())
			.containsExactly(3, 4, 5);
		// the two oldest existed and were closed, but fell out of the history of 3
		assertThat(this.tracker.view().find("s-1")).isEmpty();
		assertThat(this.tracker.view().find("s-2")).isEmpty();
		assertThat(this.tracker.view().find("s-3")).hasValueSatisfying(
				(record) -> assertThat(record.closeReason()).isEqualTo(CloseReason.PEER_CLOSED));
		assertThat(this.tracker.view().find("s-5")).isPresent();
	}

	@Test
	void roundTripTimesAreAddedUp() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.pingSent(PingKind.KEEPALIVE);
		record.pingAcked(PingKind.KEEPALIVE, Duration.ofMillis(2).toNanos());
		record.pingSent(PingKind.BDP);
		record.pingAcked(PingKind.BDP, Duration.ofMillis(4).toNanos());

		PingStatistics.Snapshot snapshot = this.tracker.view().pings().snapshot();
		assertThat(snapshot.sent()).isEqualTo(2);
		assertThat(snapshot.sentByKind()).containsEntry(PingKind.KEEPALIVE, 1L).containsEntry(PingKind.BDP, 1L);
		assertThat(snapshot.rttMillis()).isEqualTo(new PingStatistics.RoundTrip(4.0, 2.0, 3.0, 4.0));
	}

	@Test
	void callsThroughoutASilenceOnlyWhenTheyBeganBeforeItAndNeverStopped() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		long silenceStart = this.now.get();
		assertThat(record.callsThroughout(silenceStart)).as("no calls").isFalse();
		record.callStarted();
		advance(Duration.ofSeconds(1));
		assertThat(record.callsThroughout(silenceStart)).as("began with the silence").isTrue();
		assertThat(record.callsThroughout(silenceStart - 1)).as("began after the silence began").isFalse();
		long later = this.now.get();
		record.callStarted();
		record.callEnded();
		assertThat(record.callsThroughout(later)).as("a call still in flight since before").isTrue();
		record.callEnded();
		assertThat(record.callsThroughout(later)).as("none left").isFalse();
	}

	@Test
	void aChannelCountsCallsThroughoutPerChannel() {
		ConnectionTracker channel = new ConnectionTracker(Side.CLIENT, "prices", null, null, this.now::get,
				Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC), 3);
		ConnectionRecord record = channel.connectionOpened(this.remote, this.local);
		long silenceStart = this.now.get();
		advance(Duration.ofSeconds(1));
		channel.channelCallStarted();
		assertThat(record.callsThroughout(silenceStart)).as("the call began during the silence").isFalse();
		long next = this.now.get();
		advance(Duration.ofSeconds(5));
		assertThat(record.callsThroughout(next)).isTrue();
	}

	@Test
	void theCloseHandsTheAgesOfTheServerCallsTheApplicationHadNotClosed() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		ClosableServerCall<String, String> running = new ClosableServerCall<>(new FakeCall(), record.callStarted());
		record.register(running);
		advance(Duration.ofSeconds(2));
		ClosableServerCall<String, String> done = new ClosableServerCall<>(new FakeCall(), record.callStarted());
		record.register(done);
		done.close(io.grpc.Status.OK, new io.grpc.Metadata());
		advance(Duration.ofSeconds(3));
		record.goAwaySent(0, "max_age", false);
		record.close();

		ConnectionSnapshot closed = this.tracker.view().recentlyClosed().get(0);
		assertThat(closed.closeReason()).isEqualTo(CloseReason.MAX_AGE);
		assertThat(closed.unfinishedCallsAtClose()).containsExactly(Duration.ofSeconds(5));
		assertThat(record.snapshot().unfinishedCallsAtClose()).containsExactly(Duration.ofSeconds(5));
	}

	@Test
	void theViewTheApplicationGetsReachesNoWriter() {
		ConnectionTrackerView view = this.tracker.view();

		assertThat(view).isNotInstanceOf(ConnectionTracker.class);
		List<String> readOnly = Arrays.stream(ConnectionTrackerView.class.getMethods()).map(Method::getName).toList();
		assertThat(Arrays.stream(view.getClass().getMethods())
			.filter((method) -> method.getDeclaringClass() != Object.class)
			.map(Method::getName)).as("public methods of the view").allMatch(readOnly::contains);
	}

	@Test
	void goAwaysAreCountedByReasonTagAndOnlyTheTagsSeenAreListed() {
		ConnectionRecord first = this.tracker.connectionOpened(this.remote, this.local);
		ConnectionRecord second = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", 40001), this.local);
		first.goAwaySent(0, "max_age", false);
		second.goAwaySent(0, "max_age", false);
		second.goAwayReceived(11, "too_many_pings");

		assertThat(this.tracker.view().goAways(GoAway.Direction.SENT)).containsExactly(entry("max_age", 2L));
		assertThat(this.tracker.view().goAways(GoAway.Direction.RECEIVED)).containsExactly(entry("too_many_pings", 1L));
		assertThat(this.tracker.view().goAwayCount(GoAway.Direction.SENT, "max_age")).isEqualTo(2);
		assertThat(this.tracker.view().goAwayCount(GoAway.Direction.SENT, "other")).isZero();
		assertThat(this.tracker.view().goAwayCount(GoAway.Direction.SENT, "no_such_tag")).isZero();
	}

	private void advance(Duration duration) {
		this.now.addAndGet(duration.toNanos());
	}

}
