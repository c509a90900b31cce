package dev.grpckeepalive.config;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** Merging of channel defaults, gRPC defaults, and the values grpc-java adjusts. */
@ExtendWith(OutputCaptureExtension.class)
@ResourceLock(Resources.SYSTEM_OUT)
@Execution(ExecutionMode.SAME_THREAD)
class KeepAliveSettingsTests {

	@Test
	void unsetPropertiesMeanTheGrpcDefaults() {
		KeepAliveSettings settings = KeepAliveSettings.resolve(new GrpcKeepAliveProperties());

		ServerKeepAliveSettings server = settings.server();
		assertThat(server.time().effective()).isEqualTo(Duration.ofHours(2));
		assertThat(server.timeout().effective()).isEqualTo(Duration.ofSeconds(20));
		assertThat(server.permitTime().effective()).isEqualTo(Duration.ofMinutes(5));
		assertThat(server.permitWithoutCalls()).isFalse();
		assertThat(server.maxConnectionIdle().isEnabled()).isFalse();
		assertThat(server.maxConnectionAge().isEnabled()).isFalse();
		assertThat(server.maxConnectionAgeGrace().isEnabled()).isFalse();
		assertThat(settings.channels()).isEmpty();
	}

	@Test
	void channelInheritsDefaultsAndOverridesThemOneByOne() {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getClient().getDefaults().setTime(Duration.ofSeconds(30));
		properties.getClient().getDefaults().setTimeout(Duration.ofSeconds(5));
		properties.getClient().getDefaults().setWithoutCalls(true);
		GrpcKeepAliveProperties.Channel inherits = new GrpcKeepAliveProperties.Channel();
		inherits.setTarget("localhost:1");
		GrpcKeepAliveProperties.Channel overrides = new GrpcKeepAliveProperties.Channel();
		overrides.setTarget("localhost:2");
		overrides.setTime(Duration.ofMinutes(1));
		overrides.setWithoutCalls(false);
		properties.getClient().getChannels().put("inherits", inherits);
		properties.getClient().getChannels().put("overrides", overrides);

		KeepAliveSettings settings = KeepAliveSettings.resolve(properties);

		ChannelKeepAliveSettings first = settings.channel("inherits");
		assertThat(first.time().effective()).isEqualTo(Duration.ofSeconds(30));
		assertThat(first.time().property()).isEqualTo("grpc.keepalive.client.defaults.time");
		assertThat(first.withoutCalls()).isTrue();
		ChannelKeepAliveSettings second = settings.channel("overrides");
		assertThat(second.time().effective()).isEqualTo(Duration.ofMinutes(1));
		assertThat(second.time().property()).isEqualTo("grpc.keepalive.client.channels.overrides.time");
		assertThat(second.timeout().effective()).isEqualTo(Duration.ofSeconds(5));
		assertThat(second.withoutCalls()).isFalse();
		assertThat(settings.channelNames()).containsExactly("inherits", "overrides");
	}

	@Test
	void valuesGrpcJavaAdjustsStartWithOneWarningEach(CapturedOutput output) {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getServer().setTime(Duration.ofSeconds(1));
		properties.getServer().setMaxConnectionIdle(Duration.ofMillis(200));
		GrpcKeepAliveProperties.Channel channel = new GrpcKeepAliveProperties.Channel();
		channel.setTarget("localhost:1");
		channel.setTime(Duration.ofSeconds(2));
		channel.setTimeout(Duration.ofMillis(1));
		properties.getClient().getChannels().put("prices", channel);

		KeepAliveSettings settings = KeepAliveSettings.resolve(properties);

		assertThat(settings.server().time().requested()).isEqualTo(Duration.ofSeconds(1));
		assertThat(settings.server().time().effective()).isEqualTo(Duration.ofSeconds(10));
		assertThat(settings.channel("prices").timeout().effective()).isEqualTo(Duration.ofMillis(10));
		assertThat(output).contains("grpc.keepalive.server.time=1s takes effect as 10s")
			.contains("grpc.keepalive.server.max-connection-idle=200ms takes effect as 1s")
			.contains("grpc.keepalive.client.channels.prices.time=2s takes effect as 10s")
			.contains("grpc.keepalive.client.channels.prices.timeout=1ms takes effect as 10ms");
		assertThat(output.toString().split("grpc.keepalive.server.time=1s takes effect", -1)).hasSize(2);
	}

	@Test
	void withoutCallsWithoutTimeIsWarnedAbout(CapturedOutput output) {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		GrpcKeepAliveProperties.Channel channel = new GrpcKeepAliveProperties.Channel();
		channel.setTarget("localhost:1");
		channel.setWithoutCalls(true);
		properties.getClient().getChannels().put("quiet", channel);

		KeepAliveSettings.resolve(properties);

		assertThat(output).contains("Channel 'quiet' sets without-calls=true but has no keepalive time");
	}

	@Test
	void valuesReadFromElsewhereAreReportedUnderTheNameTheyWereReadFrom(CapturedOutput output) {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getServer().setTime(Duration.ofSeconds(5));
		properties.getServer().setTimeout(Duration.ofSeconds(-1));
		PropertyNames names = PropertyNames.ours()
			.with("grpc.keepalive.server.time", "spring.grpc.server.keepalive.time", "Spring Boot's default of 2h")
			.with("grpc.keepalive.server.timeout", "spring.grpc.server.keepalive.timeout",
					"Spring Boot's default of 20s");

		assertThatExceptionOfType(InvalidKeepAliveConfigurationException.class)
			.isThrownBy(() -> KeepAliveSettings.resolve(properties, names))
			.satisfies((failure) -> assertThat(failure.getViolations()).singleElement().satisfies((violation) -> {
				assertThat(violation.property()).isEqualTo("spring.grpc.server.keepalive.timeout");
				assertThat(violation.fix()).endsWith("remove the property for Spring Boot's default of 20s.");
			}));

		properties.getServer().setTimeout(Duration.ofSeconds(20));
		DurationSetting time = KeepAliveSettings.resolve(properties, names).server().time();
		assertThat(time.property()).isEqualTo("spring.grpc.server.keepalive.time");
		assertThat(output).contains("spring.grpc.server.keepalive.time=5s takes effect as 10s")
			// the value under our name: other tests running beside this one log their own clamps
			.doesNotContain("grpc.keepalive.server.time=5s");
	}

	@Test
	void framesOffSaysAtStartupWhatIsLostWithTheObserver(CapturedOutput output) {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getFrames().setEnabled(false);

		KeepAliveSettings.resolve(properties);

		assertThat(output).contains("INFO").contains(KeepAliveSettingsResolver.FRAMES_OFF);
		assertThat(KeepAliveSettingsResolver.FRAMES_OFF).contains("round-trip times", "keepalive_timeout",
				"health DOWN", "socket release after a keepalive timeout");
	}

}
