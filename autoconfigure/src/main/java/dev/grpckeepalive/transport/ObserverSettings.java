package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.function.LongSupplier;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.ConnectionTracker;

/**
 * What every {@link FrameObserver} of one server or of one application's channels shares:
 * one immutable instance for all their connections, so that each connection holds one
 * reference instead of five fields.
 *
 * @param tracker where the connections are recorded
 * @param serverSide whether the connections are a server's
 * @param keepAliveOverdueNanos how long a keepalive PING must have been unacknowledged, from
 * its flush, for a close by this side to be its keepalive timeout: the timeout on a server;
 * on a client, the timeout less {@link #clientQueueAllowance(long)}
 * @param ticker the monotonic time source, in nanoseconds
 * @param floodLimits the frame-flood limits enforced on what clients send; {@code null} on the
 * client side or when all are off
 */
record ObserverSettings(ConnectionTracker tracker, boolean serverSide, long keepAliveOverdueNanos,
		LongSupplier ticker, @Nullable FrameFloodLimits floodLimits) {

	private static final long MAX_CLIENT_QUEUE_ALLOWANCE_NANOS = Duration.ofMillis(250).toNanos();

	ObserverSettings(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker,
			@Nullable FrameFloodLimits floodLimits) {
		this(tracker, serverSide,
				serverSide ? keepAliveTimeout.toNanos()
						: keepAliveTimeout.toNanos() - clientQueueAllowance(keepAliveTimeout.toNanos()),
				ticker, serverSide ? floodLimits : null);
	}

	/**
	 * How much earlier than its timeout a client's keepalive PING may have left: grpc-java's
	 * {@code KeepAliveManager} starts the timeout when it asks for the PING, and a client
	 * transport then queues the PING as a task of its own on the event loop
	 * ({@code WriteQueue}), so the flush this observer sees comes after the timer started by
	 * however long the event loop took to reach that task (milliseconds on a loaded machine).
	 * The close the timer triggers is queued the same way, but a timer that fires on time
	 * behind a PING that left late would otherwise look like a close before the timeout. A
	 * quarter of the timeout, at most 250 ms: a server's PING is written and flushed in the
	 * timer's own task, so a server gets none.
	 */
	static long clientQueueAllowance(long keepAliveTimeoutNanos) {
		return Math.min(keepAliveTimeoutNanos / 4, MAX_CLIENT_QUEUE_ALLOWANCE_NANOS);
	}

}
