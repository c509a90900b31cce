package dev.grpckeepalive.advisor;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.config.ServerLimitSettings;

/**
 * Resolved settings for the advisor's watches, as the resolver would hand them over with nothing clamped:
 * the server's keepalive at grpc-java's defaults and its limits at the starter's defaults, except what a test
 * varies.
 */
final class SettingsFixture {

	static final String SERVER = "grpc.keepalive.server.";

	static final String LIMITS = SERVER + "limits.";

	private SettingsFixture() {
	}

	/** The server's settings with the given permit policy and connection age; no idle limit. */
	static ServerKeepAliveSettings server(Duration permitTime, boolean permitWithoutCalls,
			@Nullable Duration maxConnectionAge, @Nullable Duration maxConnectionAgeGrace) {
		return new ServerKeepAliveSettings(duration(SERVER + "time", Duration.ofHours(2)),
				duration(SERVER + "timeout", Duration.ofSeconds(20)), duration(SERVER + "permit-time", permitTime),
				permitWithoutCalls, duration(SERVER + "max-connection-idle", null),
				duration(SERVER + "max-connection-age", maxConnectionAge),
				duration(SERVER + "max-connection-age-grace", maxConnectionAgeGrace), limits());
	}

	/** The abuse limits at the starter's defaults. */
	static ServerLimitSettings limits() {
		return new ServerLimitSettings(limit("max-rst-frames", 10000),
				duration(LIMITS + "rst-frames-window", Duration.ofSeconds(1)),
				limit("max-concurrent-calls-per-connection", 100), limit("max-inbound-metadata-size", 8192),
				limit("max-connections", 10000), duration(LIMITS + "flood-window", Duration.ofSeconds(10)),
				limit("max-unsolicited-ping-acks", 10), limit("max-settings-frames", 100),
				limit("max-consecutive-empty-frames", 10), limit("max-window-update-frames", 100),
				limit("window-update-ratio", 10), limit("max-premature-resets", 1000));
	}

	/** A duration as requested and in effect. */
	static DurationSetting duration(String property, @Nullable Duration value) {
		return new DurationSetting(property, value, value, null);
	}

	private static LimitSetting limit(String name, long value) {
		return new LimitSetting(LIMITS + name, value, value, null);
	}

}
