package dev.grpckeepalive.config;

import java.time.Duration;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A duration option as it was requested and as grpc-java will apply it. grpc-java adjusts
 * some values silently (raises keepalive time to 10s, treats 1000 days as infinite, ...),
 * so the two can differ; both are kept so that they can be reported.
 *
 * @param property the full name of the property the value was read from, such as
 * {@code grpc.keepalive.server.time}, or in companion mode {@code spring.grpc.server.keepalive.time}
 * when the value came from Spring Boot's property
 * @param requested the configured value, or the gRPC default when none was configured;
 * {@code null} means disabled or infinite
 * @param effective the value grpc-java applies; {@code null} means disabled or infinite
 * @param adjustment why grpc-java changes the requested value, or {@code null} when it does not
 */
public record DurationSetting(String property, @Nullable Duration requested, @Nullable Duration effective,
		@Nullable String adjustment) {

	static DurationSetting unchanged(String property, @Nullable Duration value) {
		return new DurationSetting(property, value, value, null);
	}

	/** Whether grpc-java applies a different value from the requested one. */
	public boolean isAdjusted() {
		return !Objects.equals(this.requested, this.effective);
	}

	/** Whether the option is active, that is, not disabled or infinite. */
	public boolean isEnabled() {
		return this.effective != null;
	}

	/**
	 * The value grpc-java applies, for an option that cannot be disabled, such as the
	 * keepalive timeout.
	 * @throws IllegalStateException if the option is disabled or infinite
	 */
	public Duration requireEffective() {
		if (this.effective == null) {
			throw new IllegalStateException(this.property + " is off");
		}
		return this.effective;
	}

	/**
	 * The requested value in nanoseconds, for a grpc-java builder method. Saturates at
	 * {@link Long#MAX_VALUE} (far beyond grpc-java's "infinite") instead of overflowing.
	 * @throws IllegalStateException if nothing was requested
	 */
	public long requestedNanos() {
		if (this.requested == null) {
			throw new IllegalStateException(this.property + " is not set");
		}
		return saturatedNanos(this.requested);
	}

	/**
	 * Nanoseconds for a grpc-java builder method, saturating at {@link Long#MAX_VALUE}
	 * (far beyond grpc-java's "infinite") instead of overflowing past 292 years.
	 */
	public static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	/**
	 * This keepalive time as grpc-java's channel applies it to new connections after it
	 * doubled it {@code doublings} times (after GOAWAY {@code too_many_pings}).
	 */
	public DurationSetting backedOff(int doublings) {
		if (doublings <= 0 || this.effective == null) {
			return this;
		}
		long nanos = saturatedNanos(this.effective);
		for (int i = 0; i < doublings; i++) {
			nanos = Math.max(nanos * 2, nanos);
		}
		String why = "doubled " + ((doublings == 1) ? "once" : doublings + " times")
				+ " by grpc-java after GOAWAY too_many_pings, for new connections";
		return new DurationSetting(this.property, this.requested, Duration.ofNanos(nanos),
				(this.adjustment != null) ? this.adjustment + "; " + why : why);
	}

}
