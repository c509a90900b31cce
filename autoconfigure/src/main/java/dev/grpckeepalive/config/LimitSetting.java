package dev.grpckeepalive.config;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A count or size limit (calls, frames, bytes) as it was requested and as grpc-java will
 * apply it, both kept so that they can be reported, like {@link DurationSetting}.
 *
 * @param property the full property name, such as
 * {@code grpc.keepalive.server.limits.max-concurrent-calls-per-connection}
 * @param requested the configured value, or the starter's default when none was configured;
 * {@code null} means the limit was turned off ({@code -1})
 * @param effective the value grpc-java applies; {@code null} means no limit
 * @param adjustment why the applied value differs from the requested one, or {@code null} when it does not
 */
public record LimitSetting(String property, @Nullable Long requested, @Nullable Long effective,
		@Nullable String adjustment) {

	/** The property value that turns a limit off. */
	public static final long OFF = -1;

	static LimitSetting unchanged(String property, long value) {
		Long limit = (value == OFF) ? null : value;
		return new LimitSetting(property, limit, limit, null);
	}

	/** Whether grpc-java applies a different value from the requested one. */
	public boolean isAdjusted() {
		return !Objects.equals(this.requested, this.effective);
	}

	/** Whether the limit is in force. */
	public boolean isEnabled() {
		return this.effective != null;
	}

	/**
	 * The effective value as a grpc-java {@code int} argument.
	 * @throws IllegalStateException if the limit is off
	 */
	public int effectiveInt() {
		if (this.effective == null) {
			throw new IllegalStateException(this.property + " is off");
		}
		return Math.toIntExact(this.effective);
	}

}
