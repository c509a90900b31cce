package dev.grpckeepalive.connection;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Tracker timing logic on an injected ticker: no waiting, no wall clock. */
class ConnectionTrackerTests {

	private final AtomicLong now = new AtomicLong(1_000_000_000L);

	private final ConnectionTracker tracker = new ConnectionTracker(ConnectionTracker.Side.SERVER, "server",
			Duration.ofSeconds(10), Duration.ofMinutes(1), this.now::get,
			Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC), 3);

	private final InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);

	private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 9090);

	@Test
	void observerAndTransportFilterShareOneRecordPerConnection() {
		ConnectionRecord fromObserver = this.tracker.connectionOpened(this.remote, this.local);
		ConnectionRecord fromFilter = this.tracker.connectionOpened(this.remote, this.local);

		assertThat(fromFilter).isSameAs(fromObserver);
		assertThat(this.tracker.activeConnections()).isEqualTo(1);
		assertThat(this.tracker.openedConnections()).isEqualTo(1);
	}

	@Test
	void ageIdleAndStateFollowCalls() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		advance(Duration.ofSeconds(2));
		record.callStarted();
		assertThat(record.state()).isEqualTo(ConnectionState.ACTIVE);
		advance(Duration.ofSeconds(3));
		assertThat(record.idleNanos()).isZero();
		record.callEnded();
		advance(Duration.ofSeconds(4));

		assertThat(record.ageNanos()).isEqualTo(Duration.ofSeconds(9).toNanos());
		assertThat(record.idleNanos()).isEqualTo(Duration.ofSeconds(4).toNanos());
		assertThat(record.totalCalls()).isEqualTo(1);
		assertThat(record.state()).isEqualTo(ConnectionState.IDLE);
		assertThat(record.openedAtMillis()).isEqualTo(Instant.parse("2026-11-23T12:00:00Z").toEpochMilli());
	}

	@Test
	void goAwayDebugDataNamesTheCloseReason() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.goAwaySent(0, "max_age", false);
		assertThat(record.state()).isEqualTo(ConnectionState.DRAINING);
		record.close();
		record.close();

		assertThat(record.closeReason()).isEqualTo(CloseReason.MAX_AGE);
		assertThat(this.tracker.closedConnections(CloseReason.MAX_AGE)).isEqualTo(1);
		assertThat(this.tracker.goAwayCount(GoAway.SENT, "max_age")).isEqualTo(1);
		assertThat(this.tracker.activeConnections()).isZero();
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
		this.tracker.shutdownStarted();
		ConnectionRecord last = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", 40002), this.local);
		last.close();

		assertThat(idle.closeReason()).isEqualTo(CloseReason.MAX_IDLE);
		assertThat(young.closeReason()).isEqualTo(CloseReason.PEER_CLOSED);
		assertThat(last.closeReason()).isEqualTo(CloseReason.APP_REQUESTED);
	}

	@Test
	void keepAliveTimeoutAndTooManyPingsAreRememberedForTheWindow() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.keepAliveTimedOut();
		record.goAwayReceived(11, "too_many_pings");

		assertThat(this.tracker.keepAliveTimeoutWithin(Duration.ofMinutes(5))).isTrue();
		assertThat(this.tracker.tooManyPingsWithin(Duration.ofMinutes(5))).isTrue();
		advance(Duration.ofMinutes(5).plusNanos(1));
		assertThat(this.tracker.keepAliveTimeoutWithin(Duration.ofMinutes(5))).isFalse();
		assertThat(this.tracker.tooManyPingsWithin(Duration.ofMinutes(5))).isFalse();
		assertThat(record.pings().timeouts()).isEqualTo(1);
	}

	@Test
	void historyKeepsTheMostRecentlyClosed() {
		for (int port = 1; port <= 5; port++) {
			this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", port), this.local).close();
		}
		assertThat(this.tracker.recentlyClosed()).hasSize(3)
			.extracting((record) -> ((InetSocketAddress) record.remote()).getPort())
			.containsExactly(3, 4, 5);
		assertThat(this.tracker.find("s-0")).isNull();
	}

	@Test
	void roundTripTimesAreAddedUp() {
		ConnectionRecord record = this.tracker.connectionOpened(this.remote, this.local);
		record.pingSent(PingKind.KEEPALIVE);
		record.pingAcked(PingKind.KEEPALIVE, Duration.ofMillis(2).toNanos());
		record.pingSent(PingKind.BDP);
		record.pingAcked(PingKind.BDP, Duration.ofMillis(4).toNanos());

		PingStatistics.Snapshot snapshot = this.tracker.pings().snapshot();
		assertThat(snapshot.sent()).isEqualTo(2);
		assertThat(snapshot.sentByKind()).containsEntry(PingKind.KEEPALIVE, 1L).containsEntry(PingKind.BDP, 1L);
		assertThat(snapshot.rttMillis()).isEqualTo(new PingStatistics.RoundTrip(4.0, 2.0, 3.0, 4.0));
	}

	private void advance(Duration duration) {
		this.now.addAndGet(duration.toNanos());
	}

}
