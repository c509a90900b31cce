package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.PingStatistics;
import dev.grpckeepalive.connection.Side;

import static dev.grpckeepalive.advisor.SettingsFixture.duration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Findings {@code clients_ping_too_often} and {@code channel_pings_too_often} from PINGs and
 * closes fed by hand, on an injected clock: reported only when a connection heads for GOAWAY,
 * an interval only from several keepalive PINGs, never a permit-time under 10s, and a channel
 * time only once the server tolerated it, else a lower bound with the safe alternative.
 */
class PingWatchTests {

	private static final String PYTHON = "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)";

	private static final String GO = "grpc-go/1.33.0";

	private static final String PERMIT_TIME = "grpc.keepalive.server.permit-time";

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final KeepAliveAdvisor advisor = new KeepAliveAdvisor(Duration.ofHours(1), this.clock);

	private final ConnectionTrackerView server = ConnectionTracker.create(Side.SERVER, "server", null, null).view();

	private final ConnectionTrackerView channel = ConnectionTracker.create(Side.CLIENT, "strict", null, null).view();

	@BeforeEach
	void quiet() {
		this.advisor.warnings = (line) -> {
		};
	}

	@Test
	void singleStrikesThatHeadersOrDataForgiveAreNoFinding() {
		ServerPingWatch watch = serverWatch(Duration.ofSeconds(20), true);
		// a BDP PING early in each of many busy connections: one strike each, then the server's DATA resets it
		for (int connection = 1; connection <= 20; connection++) {
			watch.peerPing(this.server, connection, "grpc-java-netty/1.84.1", PingKind.BDP, 2_000_000L, false, true, 1);
			watch.peerPing(this.server, connection, PYTHON, PingKind.OTHER, 3_000_000L, false, true, 1);
		}
		assertThat(this.advisor.findings()).isEmpty();
	}

	@Test
	void aBackToBackPairIsNoIntervalAndAClientFasterThanTheFloorIsToldToSlowDown() {
		ServerPingWatch watch = serverWatch(Duration.ofSeconds(5), false);
		watch.peerPing(this.server, 1, PYTHON, PingKind.OTHER, 3_000_000L, false, true, 1);
		watch.peerPing(this.server, 1, PYTHON, PingKind.OTHER, 4_990_000_000L, false, true, 2);

		Finding finding = only();
		assertThat(finding.severity()).isEqualTo(Severity.WARNING);
		assertThat(clients(finding).intervalMeasured()).isTrue();
		assertThat(clients(finding).connectionsAtMaxStrikes()).isEqualTo(1L);
		Recommendation fix = finding.recommendation();
		assertThat(fix.property()).as("never a permit-time of milliseconds").isEqualTo("grpc.keepalive_time_ms");
		assertThat(fix.current()).as("not the 3ms of the pair").isEqualTo("4990");
		assertThat(fix.suggested()).isEqualTo("5000");
		assertThat(fix.text()).contains("leave " + PERMIT_TIME + " at 5s");

		watch.peerPing(this.server, 1, PYTHON, PingKind.OTHER, 5_001_000_000L, false, true, 3);
		watch.connectionClosed(this.server, closed(this.server.connectionId(1), CloseReason.TOO_MANY_PINGS));
		finding = only();
		assertThat(finding.severity()).isEqualTo(Severity.CRITICAL);
		assertThat(clients(finding).intervalMeasured()).isTrue();
		assertThat(clients(finding).connectionsClosedTooManyPings()).isEqualTo(1L);
		assertThat(clients(finding).pingIntervalMillis().median()).isEqualTo(4_990L);
		fix = finding.recommendation();
		assertThat(fix.property()).isEqualTo("grpc.keepalive_time_ms");
		assertThat(fix.current()).isEqualTo("4990");
		assertThat(fix.suggested()).isEqualTo("5000");
		assertThat(fix.text()).contains("faster than grpc-java and grpc-go clients can (10s)");
	}

	@Test
	void aGrpcGoClientCutForPingingEvery15sWithoutCallsGetsAPermitTimeThatFits() {
		ServerPingWatch watch = serverWatch(Duration.ofMinutes(5), false);
		for (int strike = 1; strike <= 3; strike++) {
			watch.peerPing(this.server, 7, GO, PingKind.OTHER, 15_002_000_000L, true, true, strike);
		}
		watch.connectionClosed(this.server, closed(this.server.connectionId(7), CloseReason.TOO_MANY_PINGS));

		Finding finding = only();
		assertThat(finding.subject()).isEqualTo(GO);
		assertThat(finding.severity()).isEqualTo(Severity.CRITICAL);
		Recommendation fix = finding.recommendation();
		assertThat(fix.property()).isEqualTo(PERMIT_TIME);
		assertThat(fix.current()).isEqualTo("5m");
		assertThat(fix.suggested()).as("90% of 15s").isEqualTo("13s");
		assertThat(fix.lowerBound()).isFalse();
		assertThat(fix.alsoSet())
			.containsExactly(new Recommendation.Change("grpc.keepalive.server.permit-without-calls", "false", "true"));
		assertThat(fix.instead()).contains("keepalive.ClientParameters");
	}

	@Test
	void aGrpcJavaClientAtItsMinimumOf10sGetsThePermitTimeFloorOf9s() {
		ServerPingWatch watch = serverWatch(Duration.ofMinutes(5), true);
		watch.peerPing(this.server, 1, "grpc-java-netty/1.84.1", PingKind.BDP, 1_000_000L, true, true, 1);
		watch.peerPing(this.server, 1, "grpc-java-netty/1.84.1", PingKind.KEEPALIVE, 9_990_000_000L, true, true, 2);
		watch.peerPing(this.server, 1, "grpc-java-netty/1.84.1", PingKind.KEEPALIVE, 10_001_000_000L, true, true, 3);
		Recommendation fix = only().recommendation();
		assertThat(fix.property()).isEqualTo(PERMIT_TIME);
		assertThat(fix.suggested()).isEqualTo("9s");
		assertThat(fix.alsoSet()).isEmpty();
	}

	@Test
	void bdpPingsGiveNoIntervalAndAnUnnamedClientIsSaidToBeSo() {
		ServerPingWatch watch = serverWatch(Duration.ofMinutes(5), false);
		watch.peerPing(this.server, 1, null, PingKind.BDP, 1_000_000L, false, true, 1);
		watch.peerPing(this.server, 1, null, PingKind.BDP, 1_000_000L, false, true, 2);
		Finding finding = only();
		assertThat(finding.subject()).isEqualTo(ServerPingWatch.UNKNOWN_AGENT);
		assertThat(clients(finding).strikesByBdpPings()).isEqualTo(2L);
		assertThat(clients(finding).intervalMeasured()).isFalse();
		assertThat(finding.recommendation().property()).isEqualTo("keepalive time (client)");
		assertThat(finding.recommendation().suggested()).isEqualTo("5m");
	}

	@Test
	void aChannelRejectedAt10sGetsALowerBoundUntilALongerTimeSurvivedThreePings() {
		ChannelPingWatch watch = new ChannelPingWatch(this.advisor, new ChannelKeepAliveSettings("strict", "x:1",
				duration("grpc.keepalive.client.channels.strict.time", Duration.ofSeconds(10)),
				duration("grpc.keepalive.client.channels.strict.timeout", Duration.ofSeconds(20)), true, null));
		watch.keepAlivePingSent(this.channel, 1, 10_004_000_000L);
		watch.connectionClosed(this.channel, tooManyPings(this.channel.connectionId(1)));

		Recommendation fix = only().recommendation();
		assertThat(fix.property()).isEqualTo("grpc.keepalive.client.channels.strict.time");
		assertThat(fix.current()).isEqualTo("10s");
		assertThat(fix.suggested()).isEqualTo("10s");
		assertThat(fix.lowerBound()).isTrue();
		assertThat(fix.safeAlternative()).isEqualTo("5m");
		assertThat(fix.text()).contains("to more than 10s");

		// grpc-java's next connection pings every 20s: one or two PINGs tolerated prove nothing yet
		watch.keepAlivePingSent(this.channel, 2, 20_003_000_000L);
		watch.keepAlivePingSent(this.channel, 2, 20_002_000_000L);
		assertThat(only().recommendation().lowerBound()).isTrue();
		watch.keepAlivePingSent(this.channel, 2, 20_005_000_000L);
		fix = only().recommendation();
		assertThat(fix.lowerBound()).isFalse();
		assertThat(fix.suggested()).isEqualTo("20s");
		assertThat(fix.safeAlternative()).isNull();
	}

	private static Evidence.ClientsPingTooOften clients(Finding finding) {
		return (Evidence.ClientsPingTooOften) finding.evidence();
	}

	private Finding only() {
		List<Finding> findings = this.advisor.findings();
		assertThat(findings).hasSize(1);
		return findings.get(0);
	}

	private ServerPingWatch serverWatch(Duration permitTime, boolean permitWithoutCalls) {
		return new ServerPingWatch(this.advisor, SettingsFixture.server(permitTime, permitWithoutCalls, null, null));
	}

	private static ConnectionSnapshot closed(String id, CloseReason reason) {
		return snapshot(id, Side.SERVER, reason, null);
	}

	private static ConnectionSnapshot tooManyPings(String id) {
		return snapshot(id, Side.CLIENT, CloseReason.TOO_MANY_PINGS,
				new GoAway(GoAway.Direction.RECEIVED, 0xb, "too_many_pings", CloseReason.TOO_MANY_PINGS, 0));
	}

	private static ConnectionSnapshot snapshot(String id, Side side, CloseReason reason, @Nullable GoAway received) {
		return new ConnectionSnapshot(id, side, "x", null, null, 0, 0, 0, 0, 0, ConnectionState.CLOSED, true, null,
				new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, received, false, null, reason, 0L, null, List.of());
	}

}
