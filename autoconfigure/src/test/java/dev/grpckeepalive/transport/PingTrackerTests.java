package dev.grpckeepalive.transport;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.PingKind;

import static org.assertj.core.api.Assertions.assertThat;

/** The outstanding PINGs of one side, on times given by the test. */
class PingTrackerTests {

	private static final long TIMEOUT = 1_000;

	private final PingTracker pings = new PingTracker();

	@Test
	void aPingIsSentAtItsFlushAndItsAckGivesTheRoundTripOnce() {
		this.pings.written(PingKind.BDP);
		assertThat(this.pings.flushed(100)).as("no keepalive PING among them").isFalse();

		assertThat(this.pings.acked(PingKind.BDP, 130)).isEqualTo(30);
		assertThat(this.pings.acked(PingKind.BDP, 140)).as("acknowledged twice").isEqualTo(PingTracker.NONE);
	}

	@Test
	void eachKindIsOutstandingOnItsOwn() {
		for (PingKind kind : PingKind.values()) {
			this.pings.written(kind);
		}
		assertThat(this.pings.flushed(100)).isTrue();
		long roundTrip = 1;
		for (PingKind kind : PingKind.values()) {
			assertThat(this.pings.acked(kind, 100 + roundTrip)).isEqualTo(roundTrip);
			roundTrip++;
		}
	}

	@Test
	void aKeepAlivePingIsOverdueFromExactlyTheTimeoutAfterItsFlush() {
		this.pings.written(PingKind.KEEPALIVE);
		assertThat(this.pings.keepAliveOutstanding()).as("written, not sent").isFalse();
		assertThat(this.pings.keepAliveOverdue(10 * TIMEOUT, TIMEOUT)).isFalse();
		this.pings.flushed(50);

		assertThat(this.pings.keepAliveOutstanding()).isTrue();
		assertThat(this.pings.keepAliveOverdue(50 + TIMEOUT - 1, TIMEOUT)).isFalse();
		assertThat(this.pings.keepAliveOverdue(50 + TIMEOUT, TIMEOUT)).isTrue();
		this.pings.keepAliveTimeoutCounted();
		assertThat(this.pings.keepAliveOutstanding()).isFalse();
		assertThat(this.pings.keepAliveOverdue(50 + 2 * TIMEOUT, TIMEOUT)).isFalse();
	}

	@Test
	void anAckBeforeTheFlushTakesThePingWithARoundTripOf0() {
		this.pings.written(PingKind.KEEPALIVE);

		assertThat(this.pings.acked(PingKind.KEEPALIVE, 10)).isZero();
		this.pings.flushed(20);

		assertThat(this.pings.keepAliveOutstanding()).as("nothing left to time out").isFalse();
	}

	@Test
	void anAckWithAnOlderPingOutstandingIsThatPingsAndTheNewOneStaysToBeSent() {
		this.pings.written(PingKind.OTHER);
		this.pings.flushed(100);
		this.pings.written(PingKind.OTHER);

		assertThat(this.pings.acked(PingKind.OTHER, 150)).isEqualTo(50);
		this.pings.flushed(200);
		assertThat(this.pings.acked(PingKind.OTHER, 260)).as("the second PING's own ACK, solicited").isEqualTo(60);
	}

	@Test
	void aRoundTripIsNeverNegative() {
		this.pings.written(PingKind.KEEPALIVE);
		this.pings.flushed(100);

		assertThat(this.pings.acked(PingKind.KEEPALIVE, 90)).isZero();
	}

	@Test
	void anAckWithoutAPingIsUnsolicited() {
		assertThat(this.pings.acked(PingKind.KEEPALIVE, 10)).isEqualTo(PingTracker.NONE);
	}

}
