package dev.grpckeepalive.connection;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * The PING policy a server enforces, so that the frame observer can judge each client PING
 * as grpc-java's keepalive enforcer does (see
 * {@link ConnectionTrackerView.ConnectionListener#peerPing}). Fixed when the server's tracker
 * is made, from the server's settings.
 *
 * @param permitTimeNanos the server's effective permit-time, in nanoseconds
 * @param permitWithoutCalls the server's permit-without-calls
 */
public record PingPolicy(long permitTimeNanos, boolean permitWithoutCalls) {

	/** gRPC's defaults: 5 minutes, PINGs without calls refused; what a channel's tracker holds. */
	public static final PingPolicy GRPC_DEFAULTS = new PingPolicy(Duration.ofMinutes(5).toNanos(), false);

	/**
	 * The policy of a server with these settings.
	 * @param permitTime the effective permit-time, {@code null} for gRPC's default
	 * @param permitWithoutCalls the server's permit-without-calls
	 * @return the policy
	 */
	public static PingPolicy of(@Nullable Duration permitTime, boolean permitWithoutCalls) {
		long nanos = (permitTime != null) ? saturatedNanos(permitTime) : GRPC_DEFAULTS.permitTimeNanos();
		return new PingPolicy(nanos, permitWithoutCalls);
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

}
