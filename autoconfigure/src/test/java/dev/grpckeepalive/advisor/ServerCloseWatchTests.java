package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingStatistics;
import dev.grpckeepalive.connection.Side;

import static dev.grpckeepalive.advisor.SettingsFixture.LIMITS;
import static org.assertj.core.api.Assertions.assertThat;

/** Findings {@code grace_too_short} and {@code abusive_clients} from closes fed by hand. */
class ServerCloseWatchTests {


	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final KeepAliveAdvisor advisor = new KeepAliveAdvisor(Duration.ofHours(1), this.clock);

	private final ConnectionTrackerView server = ConnectionTracker.create(Side.SERVER, "server", null, null).view();

	private int ids;

	@BeforeEach
	void quiet() {
		this.advisor.warnings = (line) -> {
		};
	}

	@Test
	void callsStillRunningAtAMaxAgeCloseAreCutAndTheGraceSuggestedIsTheLongestWithMargin() {
		GraceWatch watch = new GraceWatch(this.advisor, settings());
		watch.connectionClosed(this.server, snapshot(CloseReason.MAX_AGE, null, 0,
				List.of(Duration.ofMillis(2_100), Duration.ofMillis(900))));
		watch.connectionClosed(this.server, snapshot(CloseReason.MAX_AGE, null, 0, List.of(Duration.ofMillis(2_050))));
		watch.connectionClosed(this.server, snapshot(CloseReason.MAX_AGE, null, 0, List.of()));
		watch.connectionClosed(this.server, snapshot(CloseReason.APP_REQUESTED, null, 0, List.of(Duration.ofMinutes(5))));

		Finding finding = this.advisor.findings().get(0);
		assertThat(this.advisor.findings()).hasSize(1);
		assertThat(finding.type()).isEqualTo(FindingType.GRACE_TOO_SHORT);
		assertThat(finding.evidence()).isEqualTo(new Evidence.GraceTooShort(
				new Evidence.Stats(2_050L, 900L, 2_100L, 3), 3, 2, List.of("s-1", "s-2"), "1s", "1s"));
		assertThat(finding.recommendation().property()).isEqualTo("grpc.keepalive.server.max-connection-age-grace");
		assertThat(finding.recommendation().current()).isEqualTo("1s");
		assertThat(finding.recommendation().suggested()).isEqualTo("4s");
	}

	@Test
	void abuseClosesAreCountedByLimitAndTheLimitIsKept() {
		AbuseWatch watch = new AbuseWatch(this.advisor, settings().limits());
		watch.connectionClosed(this.server, snapshot(CloseReason.ABUSE, "max-settings-frames", 0, List.of()));
		watch.connectionClosed(this.server, snapshot(CloseReason.ABUSE, "max-settings-frames", 0, List.of()));
		watch.connectionClosed(this.server, snapshot(CloseReason.ABUSE, "max-rst-frames", 12, List.of()));
		watch.connectionClosed(this.server, snapshot(CloseReason.PEER_CLOSED, null, 0, List.of()));

		assertThat(this.advisor.findings()).hasSize(2);
		Finding settings = subject("max-settings-frames");
		assertThat(settings.type()).isEqualTo(FindingType.ABUSIVE_CLIENTS);
		assertThat(settings.evidence()).isEqualTo(
				new Evidence.AbusiveClients("max-settings-frames", 2, 0, List.of("s-1", "s-2"), 100L));
		assertThat(settings.recommendation().property()).isEqualTo(LIMITS + "max-settings-frames");
		assertThat(settings.recommendation().current()).isEqualTo("100");
		assertThat(settings.recommendation().suggested()).isEqualTo("keep");
		assertThat(settings.recommendation().text()).contains("load balancer or firewall").doesNotContain("raise");

		Finding resets = subject("max-rst-frames");
		assertThat(resets.recommendation().text()).as("clients with calls may be legitimate")
			.contains("raise " + LIMITS + "max-rst-frames");
	}

	private Finding subject(String subject) {
		return this.advisor.findings().stream().filter((f) -> f.subject().equals(subject)).findFirst().orElseThrow();
	}

	private ConnectionSnapshot snapshot(CloseReason reason, @Nullable String abuseLimit, long totalCalls,
			List<Duration> unfinished) {
		this.ids++;
		return new ConnectionSnapshot("s-" + this.ids, Side.SERVER, "server", null, null, 0, 0, 0, 0, totalCalls,
				ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, null, false, abuseLimit,
				reason, 0L, null, unfinished);
	}

	private static ServerKeepAliveSettings settings() {
		return SettingsFixture.server(Duration.ofMinutes(5), false, Duration.ofSeconds(1), Duration.ofSeconds(1));
	}

}
