package dev.grpckeepalive.connection;

import java.time.Duration;

/**
 * How the transport closes one server connection gracefully when an operator drains it: the
 * frame observer hands each connection's record one (itself), see
 * {@link ConnectionRecord#closableBy}. Without one (frames not observed) a connection cannot be
 * drained.
 */
@FunctionalInterface
public interface GracefulClose {

	/**
	 * The debug data of the GOAWAY a drain sends, which makes the close reason {@code drained}
	 * on both ends (a client of this starter reads it as well).
	 */
	String GOAWAY_DEBUG_DATA = "drained";

	/**
	 * Starts grpc-java's graceful close of the connection, from any thread: GOAWAY
	 * {@code NO_ERROR} {@value #GOAWAY_DEBUG_DATA} with the highest stream id and a PING, a
	 * second GOAWAY with the last stream id once the PING is answered, then the close as soon
	 * as the calls in flight are done, or when {@code grace} has run out. Returns at once.
	 * @param grace how long calls in flight get after the second GOAWAY
	 */
	void start(Duration grace);

}
