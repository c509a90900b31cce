package dev.grpckeepalive.connection;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The one precedence of close reasons, whatever the order of the events that support them. */
class CloseReasonsTests {

	private final AtomicLong now = new AtomicLong(1_000_000_000L);

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", Duration.ofSeconds(10),
			Duration.ofMinutes(1), this.now::get, java.time.Clock.systemUTC(), 10);

	private int port = 40000;

	@Test
	void precedenceListsEveryReasonThatEvidenceCanSupportOnce() {
		assertThat(CloseReasons.PRECEDENCE).doesNotHaveDuplicates()
			.doesNotContain(CloseReason.PEER_CLOSED)
			.startsWith(CloseReason.ABUSE, CloseReason.KEEPALIVE_TIMEOUT);
	}

	@Test
	void keepAliveTimeoutWinsOverTheErrorsThatFollowIt() {
		assertThat(closeAfter((record) -> record.errorSeen(), ConnectionRecord::keepAliveTimedOut))
			.isEqualTo(CloseReason.KEEPALIVE_TIMEOUT);
		assertThat(closeAfter(ConnectionRecord::keepAliveTimedOut, (record) -> record.errorSeen()))
			.isEqualTo(CloseReason.KEEPALIVE_TIMEOUT);
	}

	@Test
	void aRetiredConnectionStaysRetiredWhenItsStreamsAreResetAtTheEndOfTheGrace() {
		assertThat(closeAfter((record) -> record.goAwaySent(0, "max_age", false), (record) -> record.errorSeen()))
			.isEqualTo(CloseReason.MAX_AGE);
		assertThat(closeAfter((record) -> record.errorSeen(), (record) -> record.goAwaySent(0, "max_age", false)))
			.isEqualTo(CloseReason.MAX_AGE);
	}

	@Test
	void tooManyPingsWinsOverAnyLaterGoAway() {
		assertThat(closeAfter((record) -> record.goAwayReceived(11, "too_many_pings"),
				(record) -> record.goAwayReceived(0, "")))
			.isEqualTo(CloseReason.TOO_MANY_PINGS);
	}

	@Test
	void aPeerGoAwayWithAnErrorIsThePeersNotAnErrorHere() {
		assertThat(closeAfter((record) -> record.goAwayReceived(2, "internal"))).isEqualTo(CloseReason.PEER_GOAWAY);
		assertThat(closeAfter((record) -> record.goAwayReceived(2, "internal"), (record) -> record.errorSeen()))
			.isEqualTo(CloseReason.ERROR);
	}

	@Test
	void anAbuseLimitWinsOverEverythingElse() {
		assertThat(closeAfter((record) -> record.keepAliveTimedOut(), (record) -> record.abused("max-settings-frames")))
			.isEqualTo(CloseReason.ABUSE);
		assertThat(closeAfter((record) -> record.goAwaySent(0xb, "too_many_rststreams", false))).isEqualTo(CloseReason.ABUSE);
		assertThat(CloseReasons.abuseLimitOf("too_many_rststreams")).isEqualTo("max-rst-frames");
	}

	@Test
	void goAwaysAreClassifiedInOnePlace() {
		assertThat(CloseReasons.ofGoAwaySent(0, "max_idle", false, false)).isEqualTo(CloseReason.MAX_IDLE);
		assertThat(CloseReasons.ofGoAwaySent(11, "too_many_pings", false, false)).isEqualTo(CloseReason.TOO_MANY_PINGS);
		assertThat(CloseReasons.ofGoAwaySent(1, "", true, true)).isEqualTo(CloseReason.ERROR);
		assertThat(CloseReasons.ofGoAwaySent(0xb, "too_many_rststreams", false, false)).isEqualTo(CloseReason.ABUSE);
		assertThat(CloseReasons.ofGoAwaySent(0, "", true, true)).isEqualTo(CloseReason.KEEPALIVE_TIMEOUT);
		assertThat(CloseReasons.ofGoAwaySent(0, "", false, true)).isEqualTo(CloseReason.APP_REQUESTED);
		assertThat(CloseReasons.ofGoAwaySent(0, "", false, false)).isNull();
		assertThat(CloseReasons.ofGoAwayReceived(0, "max_age")).isEqualTo(CloseReason.MAX_AGE);
		assertThat(CloseReasons.ofGoAwayReceived(2, "")).isEqualTo(CloseReason.ERROR);
		assertThat(CloseReasons.ofGoAwayReceived(0, "bye")).isEqualTo(CloseReason.PEER_GOAWAY);
	}

	@Test
	void anOperatorsDrainIsDrainedOnBothEndsAndBeatsTheShutdownAndTheErrorsOfTheGrace() {
		assertThat(CloseReasons.ofGoAwaySent(0, "drained", false, false)).isEqualTo(CloseReason.DRAINED);
		assertThat(CloseReasons.ofGoAwaySent(0, "drained", false, true)).isEqualTo(CloseReason.DRAINED);
		assertThat(CloseReasons.ofGoAwayReceived(0, "drained")).isEqualTo(CloseReason.DRAINED);
		assertThat(closeAfter((record) -> record.goAwaySent(0, "drained", false), (record) -> record.errorSeen()))
			.isEqualTo(CloseReason.DRAINED);
		assertThat(closeAfter((record) -> record.goAwayReceived(0, "drained"))).isEqualTo(CloseReason.DRAINED);
		// a connection already retiring for its age stays max_age: grpc-java keeps its first graceful close
		assertThat(closeAfter((record) -> record.goAwaySent(0, "max_age", false),
				(record) -> record.goAwaySent(0, "drained", false)))
			.isEqualTo(CloseReason.MAX_AGE);
		this.tracker.shutdown().start();
		assertThat(closeAfter((record) -> record.goAwaySent(0, "drained", false))).isEqualTo(CloseReason.DRAINED);
	}

	@Test
	void aDrainStartsTheTransportsGracefulCloseOnceAndIsItsOwnEvidence() {
		ConnectionRecord record = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", this.port++),
				new InetSocketAddress("127.0.0.1", 9090));
		List<Duration> graces = new java.util.ArrayList<>();
		assertThat(this.tracker.drain(record.displayId(), Duration.ofSeconds(5))).isEqualTo(DrainResult.NOT_DRAINABLE);
		record.closableBy(graces::add);
		assertThat(this.tracker.drain("s-999", Duration.ofSeconds(5))).isEqualTo(DrainResult.NOT_OPEN);
		assertThat(this.tracker.drain("c-x-" + record.id(), Duration.ofSeconds(5))).isEqualTo(DrainResult.NOT_OPEN);
		assertThat(this.tracker.drain("s-+" + record.id(), Duration.ofSeconds(5))).isEqualTo(DrainResult.NOT_OPEN);
		assertThat(this.tracker.drain(record.displayId(), Duration.ofSeconds(5))).isEqualTo(DrainResult.DRAINING);
		assertThat(this.tracker.drain(record.displayId(), Duration.ofSeconds(5)))
			.isEqualTo(DrainResult.ALREADY_DRAINING);
		assertThat(graces).containsExactly(Duration.ofSeconds(5));
		// closed before its GOAWAY was seen: still drained
		record.close();
		assertThat(record.snapshot().closeReason()).isEqualTo(CloseReason.DRAINED);
		assertThat(this.tracker.view().closedConnections(CloseReason.DRAINED)).isEqualTo(1);
		assertThat(this.tracker.drain(record.displayId(), Duration.ofSeconds(5))).isEqualTo(DrainResult.NOT_OPEN);
	}

	@Test
	void aConnectionClosingAlreadyIsNotDrainedAgain() {
		ConnectionRecord record = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", this.port++),
				new InetSocketAddress("127.0.0.1", 9090));
		List<Duration> graces = new java.util.ArrayList<>();
		record.closableBy(graces::add);
		record.goAwaySent(0, "max_age", false);
		assertThat(this.tracker.drain(record.displayId(), Duration.ofSeconds(5)))
			.isEqualTo(DrainResult.ALREADY_DRAINING);
		assertThat(graces).isEmpty();
		record.close();
		assertThat(record.snapshot().closeReason()).isEqualTo(CloseReason.MAX_AGE);
	}

	@Test
	void withoutEvidenceTheSettingsDecide() {
		assertThat(CloseReasons.inferred(false, 0, 9_000, 20_000, 10_000, -1)).isEqualTo(CloseReason.MAX_IDLE);
		assertThat(CloseReasons.inferred(false, 1, 9_000, 20_000, 10_000, -1)).isEqualTo(CloseReason.PEER_CLOSED);
		assertThat(CloseReasons.inferred(false, 1, 0, 54_000, 10_000, 60_000)).isEqualTo(CloseReason.MAX_AGE);
		assertThat(CloseReasons.inferred(false, 0, 8_999, 53_999, 10_000, 60_000)).isEqualTo(CloseReason.PEER_CLOSED);
		assertThat(CloseReasons.inferred(true, 0, 9_000, 20_000, 10_000, -1)).isEqualTo(CloseReason.APP_REQUESTED);
	}

	@Test
	void evidenceOutranksInference() {
		this.tracker.shutdown().start();
		assertThat(closeAfter((record) -> record.goAwaySent(0, "max_age", false))).isEqualTo(CloseReason.MAX_AGE);
		assertThat(closeAfter((record) -> { })).isEqualTo(CloseReason.APP_REQUESTED);
	}

	@SafeVarargs
	private CloseReason closeAfter(java.util.function.Consumer<ConnectionRecord>... events) {
		ConnectionRecord record = this.tracker.connectionOpened(new InetSocketAddress("127.0.0.1", this.port++),
				new InetSocketAddress("127.0.0.1", 9090));
		List.of(events).forEach((event) -> event.accept(record));
		record.close();
		return record.snapshot().closeReason();
	}

}
