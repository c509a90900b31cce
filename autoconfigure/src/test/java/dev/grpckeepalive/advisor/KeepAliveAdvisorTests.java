package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.BeforeEach;

import dev.grpckeepalive.connection.Side;

import static org.assertj.core.api.Assertions.assertThat;

/** Findings: one WARN per new finding, occurrences, newest first, expiry after the window on an injected clock. */
class KeepAliveAdvisorTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final KeepAliveAdvisor advisor = new KeepAliveAdvisor(Duration.ofHours(1), this.clock);

	private final List<String> warnings = new CopyOnWriteArrayList<>();

	@BeforeEach
	void captureWarnings() {
		this.advisor.warnings = this.warnings::add;
	}

	@Test
	void aFindingLogsOneWarnWhenNewAndCountsLaterOccurrences() {
		report("grpc-java-netty/1.84.1", Severity.WARNING);
		this.clock.advance(Duration.ofSeconds(10));
		report("grpc-java-netty/1.84.1", Severity.CRITICAL);

		List<Finding> findings = this.advisor.findings();
		assertThat(findings).hasSize(1);
		Finding finding = findings.get(0);
		assertThat(finding.occurrences()).isEqualTo(2);
		assertThat(finding.severity()).isEqualTo(Severity.CRITICAL);
		assertThat(finding.firstSeen()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
		assertThat(finding.lastSeen()).isEqualTo(Instant.parse("2026-01-01T00:00:10Z"));
		assertThat(warnings("grpc-java-netty/1.84.1")).as("one WARN line").isEqualTo(1);
		assertThat(this.warnings.get(0)).contains("clients_ping_too_often")
			.contains("Fix: set grpc.keepalive.server.permit-time to 9s");
		assertThat(this.advisor.count(FindingType.CLIENTS_PING_TOO_OFTEN, Severity.CRITICAL, Side.SERVER, "server"))
			.isEqualTo(1);
		assertThat(this.advisor.count(FindingType.CLIENTS_PING_TOO_OFTEN, Severity.WARNING, Side.SERVER, "server"))
			.isZero();
	}

	@Test
	void findingsComeNewestFirst() {
		report("a", Severity.WARNING);
		this.clock.advance(Duration.ofSeconds(1));
		report("b", Severity.WARNING);
		this.clock.advance(Duration.ofSeconds(1));
		report("a", Severity.WARNING);
		assertThat(this.advisor.findings()).extracting(Finding::subject).containsExactly("a", "b");
	}

	@Test
	void aFindingExpiresWhenItsEvidenceIsOlderThanTheWindowAndComesBackAsNew() {
		report("expiring", Severity.WARNING);
		this.clock.advance(Duration.ofMinutes(59));
		report("b", Severity.WARNING);
		this.clock.advance(Duration.ofMinutes(2));

		assertThat(this.advisor.findings()).extracting(Finding::subject).containsExactly("b");
		assertThat(this.advisor.countBySeverity()).containsEntry(Severity.WARNING, 1);

		report("expiring", Severity.WARNING);
		Finding again = this.advisor.findings().get(0);
		assertThat(again.subject()).isEqualTo("expiring");
		assertThat(again.occurrences()).isEqualTo(1);
		assertThat(again.firstSeen()).isEqualTo(this.clock.instant());
		assertThat(warnings("expiring")).as("a WARN for each new finding").isEqualTo(2);
	}

	@Test
	void findingsOfTheConfigurationDoNotExpire() {
		this.advisor.reportPersistent(FindingType.VALUE_CLAMPED, Severity.INFO, Side.SERVER, "server",
				"grpc.keepalive.server.time", "clamped", new Evidence.ValueClamped("5s", "10s", "clamped"),
				recommendation());
		this.clock.advance(Duration.ofDays(2));
		assertThat(this.advisor.findings()).hasSize(1);
	}

	private long warnings(String subject) {
		return this.warnings.stream().filter((line) -> line.contains("(" + subject + ")")).count();
	}

	private void report(String agent, Severity severity) {
		this.advisor.report(FindingType.CLIENTS_PING_TOO_OFTEN, severity, Side.SERVER, "server", agent,
				"Clients ping too often.", new Evidence.ClientsPingTooOften(agent, Evidence.Stats.NONE, false, 2, 0, 0, 2,
						1, 3, 0, List.of(), "5m", false),
				recommendation());
	}

	private static Recommendation recommendation() {
		return new Recommendation("grpc.keepalive.server.permit-time", "5m", "9s", List.of(), null,
				"set grpc.keepalive.server.permit-time to 9s.");
	}

}
