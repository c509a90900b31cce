package dev.grpckeepalive.config;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * The adjustments grpc-java's Netty builders and {@code KeepAliveEnforcer} make to the
 * values they are given, so that the value in force can be reported next to the requested
 * one. This class only predicts; grpc-java is still given the requested value and does the
 * adjusting and the enforcing itself.
 *
 * <p>Mirrors grpc-java 1.84: {@code KeepAliveManager.clampKeepAliveTimeInNanos} (10s) and
 * {@code clampKeepAliveTimeoutInNanos} (10ms), {@code NettyServerBuilder}'s 1s minimum for
 * max-connection-idle and -age, its and {@code NettyChannelBuilder}'s "1000 days is as large
 * as infinite", and {@code KeepAliveEnforcer}'s two-hour cap on the permit time.
 */
final class GrpcJavaLimits {

	static final Duration MIN_KEEPALIVE_TIME = Duration.ofSeconds(10);

	static final Duration MIN_KEEPALIVE_TIMEOUT = Duration.ofMillis(10);

	static final Duration MIN_CONNECTION_IDLE_OR_AGE = Duration.ofSeconds(1);

	static final Duration AS_LARGE_AS_INFINITE = Duration.ofDays(1000);

	/** Without calls in flight a client may always ping once every two hours, whatever the permit time. */
	static final Duration MAX_PERMIT_TIME = Duration.ofHours(2);

	private GrpcJavaLimits() {
	}

	static DurationSetting keepAliveTime(String property, @Nullable Duration requested) {
		if (requested == null) {
			return DurationSetting.unchanged(property, null);
		}
		if (requested.compareTo(AS_LARGE_AS_INFINITE) >= 0) {
			return new DurationSetting(property, requested, null, "grpc-java treats 1000 days or more as disabled");
		}
		if (requested.compareTo(MIN_KEEPALIVE_TIME) < 0) {
			return new DurationSetting(property, requested, MIN_KEEPALIVE_TIME,
					"grpc-java raises keepalive time to its minimum of 10s");
		}
		return DurationSetting.unchanged(property, requested);
	}

	static DurationSetting keepAliveTimeout(String property, Duration requested) {
		if (requested.compareTo(MIN_KEEPALIVE_TIMEOUT) < 0) {
			return new DurationSetting(property, requested, MIN_KEEPALIVE_TIMEOUT,
					"grpc-java raises keepalive timeout to its minimum of 10ms");
		}
		return DurationSetting.unchanged(property, requested);
	}

	static DurationSetting maxConnectionIdleOrAge(String property, @Nullable Duration requested) {
		if (requested == null) {
			return DurationSetting.unchanged(property, null);
		}
		if (requested.compareTo(AS_LARGE_AS_INFINITE) >= 0) {
			return new DurationSetting(property, requested, null, "grpc-java treats 1000 days or more as infinite");
		}
		if (requested.compareTo(MIN_CONNECTION_IDLE_OR_AGE) < 0) {
			return new DurationSetting(property, requested, MIN_CONNECTION_IDLE_OR_AGE,
					"grpc-java raises max-connection-idle and max-connection-age to its minimum of 1s");
		}
		return DurationSetting.unchanged(property, requested);
	}

	static DurationSetting maxConnectionAgeGrace(String property, @Nullable Duration requested) {
		if (requested != null && requested.compareTo(AS_LARGE_AS_INFINITE) >= 0) {
			return new DurationSetting(property, requested, null, "grpc-java treats 1000 days or more as infinite");
		}
		return DurationSetting.unchanged(property, requested);
	}

	static DurationSetting permitTime(String property, Duration requested) {
		if (requested.compareTo(MAX_PERMIT_TIME) > 0) {
			return new DurationSetting(property, requested, MAX_PERMIT_TIME,
					"grpc-java's KeepAliveEnforcer always permits one ping every 2h");
		}
		return DurationSetting.unchanged(property, requested);
	}

}
