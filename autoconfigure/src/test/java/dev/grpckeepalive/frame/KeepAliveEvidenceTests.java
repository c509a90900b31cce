package dev.grpckeepalive.frame;

import java.time.Duration;

import org.junit.jupiter.api.Test;

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

	private static long seconds(long seconds) {
		return Duration.ofSeconds(seconds).toNanos();
	}

}
