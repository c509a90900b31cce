package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.grpc.Metadata;
import org.jspecify.annotations.Nullable;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.UserAgentCapture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The strikes {@link KeepAliveEvidence} counts are those of grpc-java 1.84's
 * {@code KeepAliveEnforcer}: a PING sooner than permit-time after the last valid one (2h
 * without calls unless permitted; the first measured from the connection's start) is a
 * strike, HEADERS or DATA from the server reset the count, and the third strike is the one
 * grpc-java answers with GOAWAY too_many_pings.
 */
class KeepAliveEvidenceTests {

	private static final long OPENED = 1_000_000_000L;

	private static final long FIVE_MINUTES = Duration.ofMinutes(5).toNanos();

	@Test
	void aClientPingingEvery10sWithoutCallsAgainstDefaultsStrikesEachTimeAndTheThirdIsTheGoAway() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		for (int i = 1; i <= 3; i++) {
			assertThat(evidence.acceptable(OPENED + seconds(10 * i), true, FIVE_MINUTES, false)).isFalse();
			assertThat(evidence.strikes()).isEqualTo(i);
		}
		assertThat(evidence.strikes()).isGreaterThan(KeepAliveEvidence.MAX_PING_STRIKES);
	}

	@Test
	void withoutCallsTheImplicitPermitTimeIs2hEvenWhenPermitTimeIsShorter() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		assertThat(evidence.acceptable(OPENED + seconds(600), true, seconds(10), false)).isFalse();
		assertThat(evidence.acceptable(OPENED + Duration.ofHours(2).toNanos(), true, seconds(10), false)).isTrue();
	}

	@Test
	void permitWithoutCallsAppliesPermitTimeToIdleConnections() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		for (int i = 1; i <= 5; i++) {
			assertThat(evidence.acceptable(OPENED + seconds(10 * i), true, seconds(10), true)).isTrue();
		}
		assertThat(evidence.acceptable(OPENED + seconds(55), true, seconds(10), true)).isFalse();
		assertThat(evidence.strikes()).isEqualTo(1);
	}

	@Test
	void theFirstPingIsMeasuredFromTheConnectionsStart() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		assertThat(evidence.acceptable(OPENED + seconds(299), false, FIVE_MINUTES, false)).isFalse();
		assertThat(evidence.acceptable(OPENED + seconds(300), false, FIVE_MINUTES, false)).isTrue();
	}

	@Test
	void headersOrDataFromTheServerResetStrikesAndTheLastValidPingToTheConnectionsStart() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		assertThat(evidence.acceptable(OPENED + seconds(300), false, FIVE_MINUTES, false)).isTrue();
		assertThat(evidence.acceptable(OPENED + seconds(310), false, FIVE_MINUTES, false)).isFalse();
		assertThat(evidence.acceptable(OPENED + seconds(320), false, FIVE_MINUTES, false)).isFalse();
		evidence.headersOrDataSent(OPENED + seconds(321), false);
		assertThat(evidence.strikes()).isZero();
		// grpc-java resets to its epoch, not to now: 330s after the start is valid again
		assertThat(evidence.acceptable(OPENED + seconds(330), false, FIVE_MINUTES, false)).isTrue();
		assertThat(evidence.strikes()).isZero();
	}

	@Test
	void permitTimeIsCappedAt2h() {
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		long threeHours = Duration.ofHours(3).toNanos();
		assertThat(evidence.acceptable(OPENED + Duration.ofHours(2).toNanos(), false, threeHours, false)).isTrue();
	}

	@Test
	void aGrpcCorePingRightAfterTheServersDataIsItsBdpPingAndOthersAreNot() {
		ConnectionTracker tracker = ConnectionTracker.create(Side.SERVER, "server", null, null);
		List<PingKind> kinds = new ArrayList<>();
		tracker.view().addListener(new ConnectionTrackerView.ConnectionListener() {
			@Override
			public void peerPing(ConnectionTrackerView view, long connection, @Nullable String userAgent,
					PingKind kind, long intervalNanos, boolean withoutCalls, boolean strike, int strikes) {
				kinds.add(kind);
			}
		});
		ConnectionRecord python = withUserAgent(tracker, "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)");
		KeepAliveEvidence evidence = new KeepAliveEvidence(OPENED);
		evidence.headersOrDataSent(OPENED + seconds(1), true);
		// C-core sends its BDP PING as it reads the DATA: a round trip later; numbered payloads say nothing
		evidence.peerPing(python, tracker, PingKind.of(0), OPENED + seconds(1) + 3_000_000L);
		// its keepalive PING, with no DATA since the last PING
		evidence.peerPing(python, tracker, PingKind.of(1), OPENED + seconds(6));
		// DATA, but the PING comes long after it
		evidence.headersOrDataSent(OPENED + seconds(7), true);
		evidence.peerPing(python, tracker, PingKind.of(2), OPENED + seconds(11));
		// HEADERS alone draw no BDP PING
		evidence.headersOrDataSent(OPENED + seconds(12), false);
		evidence.peerPing(python, tracker, PingKind.of(3), OPENED + seconds(12) + 1_000_000L);
		assertThat(kinds).containsExactly(PingKind.BDP, PingKind.OTHER, PingKind.OTHER, PingKind.OTHER);

		// grpc-js has no BDP PINGs: its PING right after DATA is not one
		kinds.clear();
		ConnectionRecord node = withUserAgent(tracker, "grpc-node-js/1.9.0");
		KeepAliveEvidence jsEvidence = new KeepAliveEvidence(OPENED);
		jsEvidence.headersOrDataSent(OPENED + seconds(1), true);
		jsEvidence.peerPing(node, tracker, PingKind.of(0x1234_5678L), OPENED + seconds(1) + 3_000_000L);
		assertThat(kinds).containsExactly(PingKind.OTHER);
	}

	@Test
	void grpcGosBdpPayloadIsABdpPingAndItsAllZeroKeepAlivePayloadIsNot() {
		assertThat(PingKind.of(0x0204_1010_090E_0707L)).isEqualTo(PingKind.BDP);
		assertThat(PingKind.of(0)).isEqualTo(PingKind.OTHER);
		assertThat(PingKind.of(1234)).isEqualTo(PingKind.BDP);
	}

	private static ConnectionRecord withUserAgent(ConnectionTracker tracker, String userAgent) {
		ConnectionRecord record = tracker.connectionOpened(null, null);
		Metadata headers = new Metadata();
		headers.put(Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER), userAgent);
		UserAgentCapture.reading(record);
		try {
			UserAgentCapture.INSTANCE.newServerStreamTracer("/unknown.Service/Method", headers);
		}
		finally {
			UserAgentCapture.reading(null);
		}
		return record;
	}

	private static long seconds(long seconds) {
		return Duration.ofSeconds(seconds).toNanos();
	}

}
