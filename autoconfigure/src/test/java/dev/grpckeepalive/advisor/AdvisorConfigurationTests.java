package dev.grpckeepalive.advisor;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.TestService;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** Findings from the configuration alone, made at startup and kept. */
class AdvisorConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class,
				KeepAliveAdvisorAutoConfiguration.class))
		.withBean(TestService.class);

	@Test
	void aChannelToThisApplicationsOwnServerThatPingsSoonerThanPermittedOrWithoutCallsIsCritical() throws Exception {
		int port = FreePorts.take();
		this.runner
			.withPropertyValues("grpc.keepalive.server.port=" + port,
					"grpc.keepalive.client.channels.self.target=localhost:" + port,
					"grpc.keepalive.client.channels.self.time=30s",
					"grpc.keepalive.client.channels.self.without-calls=true",
					"grpc.keepalive.client.channels.remote.target=dns:///orders.example:" + port,
					"grpc.keepalive.client.channels.remote.time=30s")
			.run((context) -> {
				List<Finding> findings = context.getBean(KeepAliveAdvisor.class).findings();
				assertThat(findings).filteredOn((finding) -> finding.type() == FindingType.KEEPALIVE_CONFLICT)
					.allSatisfy((finding) -> {
						assertThat(finding.severity()).isEqualTo(Severity.CRITICAL);
						assertThat(finding.side()).isEqualTo(Side.CLIENT);
						assertThat(finding.channel()).isEqualTo("self");
						assertThat(finding.persistent()).isTrue();
					})
					.extracting(Finding::subject)
					.containsExactlyInAnyOrder("time-below-permit-time", "without-calls-not-permitted");
				Finding time = findings.stream()
					.filter((finding) -> finding.subject().equals("time-below-permit-time"))
					.findFirst()
					.orElseThrow();
				assertThat(time.recommendation().property()).isEqualTo("grpc.keepalive.client.channels.self.time");
				assertThat(time.recommendation().current()).isEqualTo("30s");
				assertThat(time.recommendation().suggested()).isEqualTo("5m");
				assertThat(((Evidence.KeepAliveConflict) time.evidence()).serverPermitTime()).isEqualTo("5m");
				Finding withoutCalls = findings.stream()
					.filter((finding) -> finding.subject().equals("without-calls-not-permitted"))
					.findFirst()
					.orElseThrow();
				assertThat(withoutCalls.recommendation().property())
					.isEqualTo("grpc.keepalive.server.permit-without-calls");
				assertThat(withoutCalls.recommendation().suggested()).isEqualTo("true");
				assertThat(withoutCalls.recommendation().instead())
					.isEqualTo("set grpc.keepalive.client.channels.self.without-calls to false");
			});
	}

	@Test
	void clampedValuesAreInfoFindingsWithRequestedAndEffective() throws Exception {
		this.runner
			.withPropertyValues("grpc.keepalive.server.port=0", "grpc.keepalive.server.time=5s",
					"grpc.keepalive.client.channels.fast.target=localhost:1",
					"grpc.keepalive.client.channels.fast.time=2s")
			.run((context) -> {
				List<Finding> clamped = context.getBean(KeepAliveAdvisor.class)
					.findings()
					.stream()
					.filter((finding) -> finding.type() == FindingType.VALUE_CLAMPED)
					.toList();
				assertThat(clamped).extracting(Finding::subject)
					.containsExactlyInAnyOrder("grpc.keepalive.server.time",
							"grpc.keepalive.client.channels.fast.time");
				assertThat(clamped).allSatisfy((finding) -> {
					assertThat(finding.severity()).isEqualTo(Severity.INFO);
					assertThat(finding.recommendation().suggested()).isEqualTo("10s");
					assertThat(((Evidence.ValueClamped) finding.evidence()).effective()).isEqualTo("10s");
				});
			});
	}

	@Test
	void theAdvisorCanBeSwitchedOff() {
		this.runner.withPropertyValues("grpc.keepalive.server.port=0", "grpc.keepalive.advisor.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(KeepAliveAdvisor.class));
	}

}
