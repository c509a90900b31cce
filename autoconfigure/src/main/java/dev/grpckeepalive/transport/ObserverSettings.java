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
 * @param keepAliveTimeoutNanos this side's keepalive timeout: a keepalive PING unacknowledged
 * for this long has timed out
 * @param ticker the monotonic time source, in nanoseconds
 * @param floodLimits the frame-flood limits enforced on what clients send; {@code null} on the
 * client side or when all are off
 */
record ObserverSettings(ConnectionTracker tracker, boolean serverSide, long keepAliveTimeoutNanos,
		LongSupplier ticker, @Nullable FrameFloodLimits floodLimits) {

	ObserverSettings(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker,
			@Nullable FrameFloodLimits floodLimits) {
		this(tracker, serverSide, keepAliveTimeout.toNanos(), ticker, serverSide ? floodLimits : null);
	}

}
