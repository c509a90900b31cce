package dev.grpckeepalive.config;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.util.unit.DataSize;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code grpc.keepalive.server.limits.*}: on by default, each one off with -1. */
class ServerLimitSettingsTests {

	private static final String LIMITS = "grpc.keepalive.server.limits.";

	@Test
	void limitsAreOnByDefault() {
		ServerLimitSettings limits = KeepAliveSettings.resolve(new GrpcKeepAliveProperties()).server().limits();

		assertThat(limits.maxRstFrames()).isEqualTo(new LimitSetting(LIMITS + "max-rst-frames", 10_000L, 10_000L, null));
		assertThat(limits.rstFramesWindow().effective()).isEqualTo(Duration.ofSeconds(1));
		assertThat(limits.maxConcurrentCallsPerConnection())
			.isEqualTo(new LimitSetting(LIMITS + "max-concurrent-calls-per-connection", 100L, 100L, null));
		// grpc-java's own default, now stated and adjustable
		assertThat(limits.maxInboundMetadataSize())
			.isEqualTo(new LimitSetting(LIMITS + "max-inbound-metadata-size", 8192L, 8192L, null));
		assertThat(limits.maxConsecutiveEmptyFrames().effectiveInt()).isEqualTo(10);
		assertThat(limits.maxWindowUpdateFrames().effectiveInt()).isEqualTo(100);
		assertThat(limits.windowUpdateRatio().effectiveInt()).isEqualTo(10);
		assertThat(limits.maxPrematureResets().effectiveInt()).isEqualTo(1000);
	}

	@Test
	void aNegativeRatioFailsNamingTheProperty() {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getServer().getLimits().setWindowUpdateRatio(-1);

		org.assertj.core.api.Assertions.assertThatException()
			.isThrownBy(() -> KeepAliveSettings.resolve(properties))
			.withMessageContaining(LIMITS + "window-update-ratio");
	}

	@Test
	void minusOneTurnsEachLimitOff() {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getServer().getLimits().setMaxRstFrames(-1);
		properties.getServer().getLimits().setMaxConcurrentCallsPerConnection(-1);
		properties.getServer().getLimits().setMaxInboundMetadataSize(DataSize.ofBytes(-1));

		ServerLimitSettings limits = KeepAliveSettings.resolve(properties).server().limits();

		assertThat(limits.maxRstFrames().isEnabled()).isFalse();
		assertThat(limits.maxRstFrames().requested()).isNull();
		assertThat(limits.maxConcurrentCallsPerConnection().isEnabled()).isFalse();
		assertThat(limits.maxInboundMetadataSize().isEnabled()).isFalse();
		assertThat(limits.maxInboundMetadataSize().isAdjusted()).isFalse();
	}

	@Test
	void configuredValuesAreAppliedAsRequested() {
		GrpcKeepAliveProperties properties = new GrpcKeepAliveProperties();
		properties.getServer().getLimits().setMaxRstFrames(50);
		properties.getServer().getLimits().setRstFramesWindow(Duration.ofMinutes(1));
		properties.getServer().getLimits().setMaxConcurrentCallsPerConnection(2000);
		properties.getServer().getLimits().setMaxInboundMetadataSize(DataSize.ofKilobytes(64));

		ServerLimitSettings limits = KeepAliveSettings.resolve(properties).server().limits();

		assertThat(limits.maxRstFrames().effectiveInt()).isEqualTo(50);
		assertThat(limits.rstFramesWindow().effective()).isEqualTo(Duration.ofSeconds(60));
		assertThat(limits.maxConcurrentCallsPerConnection().effectiveInt()).isEqualTo(2000);
		assertThat(limits.maxInboundMetadataSize().effectiveInt()).isEqualTo(65536);
	}

}
