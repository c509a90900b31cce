package dev.grpckeepalive.connection;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The one place that decides what a GOAWAY means and why a connection closed.
 *
 * <p>While a connection is open, each event that explains a close (a GOAWAY, a keepalive
 * timeout, an error) adds one piece of <em>evidence</em>: a bit for the close reason it
 * supports. Several may pile up: a server that reaches {@code max-connection-age} sends
 * GOAWAY {@code max_age}, and the stream reset at the end of the grace may add an error. At
 * close the reason is the first in {@link #PRECEDENCE} that has evidence, whatever the order
 * the events came in:
 * <ol>
 * <li>{@code abuse}: an HTTP/2 abuse limit fired. The peer is hostile or broken; the errors
 * that follow are the close it earned.</li>
 * <li>{@code keepalive_timeout}: this side's keepalive PING went unanswered. The strongest
 * fact: the peer or the path is gone, and whatever follows (errors, resets) is its
 * consequence.</li>
 * <li>{@code too_many_pings}: a GOAWAY {@code too_many_pings}, sent or received.</li>
 * <li>{@code max_age}, then {@code max_idle}: a GOAWAY with that debug data, sent or
 * received: the connection was retired on purpose.</li>
 * <li>{@code drained}: an operator drained it (a GOAWAY {@code drained}, sent or received).
 * After the retirements that grpc-java starts by itself: an operator's drain of a connection
 * already retiring for its age changes nothing on the wire (grpc-java keeps the first
 * graceful close), so the first reason stays.</li>
 * <li>{@code app_requested}: this side sent GOAWAY {@code NO_ERROR} while the application was
 * shutting down.</li>
 * <li>{@code error}: a GOAWAY this side sent with an error code, bytes that are not HTTP/2, a
 * client that never completed the handshake, an exception in the pipeline.</li>
 * <li>{@code peer_goaway}: the peer sent another GOAWAY, with or without an error code.</li>
 * </ol>
 * Without evidence the reason is inferred from the settings, see {@link #inferred}.
 */
final class CloseReasons {

	/** Which evidence wins when several reasons have some: the first in this list. */
	static final List<CloseReason> PRECEDENCE = List.of(CloseReason.ABUSE, CloseReason.KEEPALIVE_TIMEOUT, CloseReason.TOO_MANY_PINGS,
			CloseReason.MAX_AGE, CloseReason.MAX_IDLE, CloseReason.DRAINED, CloseReason.APP_REQUESTED, CloseReason.ERROR,
			CloseReason.PEER_GOAWAY);

	/** The debug data of the GOAWAY NO_ERROR with which an operator's drain closes a server connection. */
	static final String DRAINED_DEBUG_DATA = GracefulClose.GOAWAY_DEBUG_DATA;

	/** HTTP/2's error code for "the peer may be generating excessive load". */
	static final long ENHANCE_YOUR_CALM = 0xb;

	/**
	 * The limit a GOAWAY {@code ENHANCE_YOUR_CALM} this side sent names: grpc-java's reset
	 * limit by its debug data, else the debug data itself (Netty's CONTINUATION limit, for one).
	 */
	static String abuseLimitOf(String debugData) {
		if ("too_many_rststreams".equals(debugData)) {
			return "max-rst-frames";
		}
		return debugData.isEmpty() ? "ENHANCE_YOUR_CALM" : debugData;
	}

	/** Share of max-connection-idle or -age after which a close without evidence is put down to it. */
	private static final double INFERENCE_SHARE = 0.9;

	private CloseReasons() {
	}

	/** The evidence bit for a reason. */
	static int evidence(CloseReason reason) {
		return 1 << reason.ordinal();
	}

	/** The reason with the highest precedence among the evidence, or {@code null} when there is none. */
	static @Nullable CloseReason decide(int evidence) {
		for (CloseReason reason : PRECEDENCE) {
			if ((evidence & evidence(reason)) != 0) {
				return reason;
			}
		}
		return null;
	}

	/**
	 * The reason for a close without evidence, from what the application and the settings
	 * make likely: {@code app_requested} while the application shuts down; {@code max_idle}
	 * for a server connection without calls that was idle for at least 90% of
	 * max-connection-idle, {@code max_age} for one at least 90% of max-connection-age old
	 * (grpc-java's GOAWAY went unseen, as with {@code frames.enabled=false}); else
	 * {@code peer_closed}.
	 * @param shuttingDown whether the application is shutting down
	 * @param activeCalls the connection's calls in flight
	 * @param idleNanos how long it had no calls
	 * @param ageNanos its age
	 * @param maxIdleNanos max-connection-idle, or a negative value where there is none
	 * @param maxAgeNanos max-connection-age, or a negative value where there is none
	 */
	static CloseReason inferred(boolean shuttingDown, int activeCalls, long idleNanos, long ageNanos, long maxIdleNanos,
			long maxAgeNanos) {
		if (shuttingDown) {
			return CloseReason.APP_REQUESTED;
		}
		if (maxIdleNanos >= 0 && activeCalls == 0 && idleNanos >= maxIdleNanos * INFERENCE_SHARE) {
			return CloseReason.MAX_IDLE;
		}
		if (maxAgeNanos >= 0 && ageNanos >= maxAgeNanos * INFERENCE_SHARE) {
			return CloseReason.MAX_AGE;
		}
		return CloseReason.PEER_CLOSED;
	}

	/**
	 * What a GOAWAY this side sent means: the reason grpc-java's debug data names
	 * ({@code max_idle}, {@code max_age}, {@code too_many_pings}), or the starter's
	 * ({@code drained}); else {@code abuse} for
	 * {@code ENHANCE_YOUR_CALM} (grpc-java's reset limit, Netty's CONTINUATION limit, the
	 * starter's flood limits); else {@code error} for another error code; else {@code keepalive_timeout} when one of this side's keepalive PINGs was
	 * overdue (grpc-java's keepalive GOAWAY carries no debug data); else {@code app_requested}
	 * while the application shuts down; else unknown.
	 */
	static @Nullable CloseReason ofGoAwaySent(long errorCode, String debugData, boolean keepAliveOverdue,
			boolean shuttingDown) {
		CloseReason named = fromDebugData(debugData);
		if (named != null) {
			return named;
		}
		if (errorCode == ENHANCE_YOUR_CALM) {
			return CloseReason.ABUSE;
		}
		if (errorCode != 0) {
			return CloseReason.ERROR;
		}
		if (keepAliveOverdue) {
			return CloseReason.KEEPALIVE_TIMEOUT;
		}
		return shuttingDown ? CloseReason.APP_REQUESTED : null;
	}

	/**
	 * What a GOAWAY the peer sent means: the reason its debug data names; else {@code error}
	 * for an error code; else {@code peer_goaway}.
	 */
	static CloseReason ofGoAwayReceived(long errorCode, String debugData) {
		CloseReason named = fromDebugData(debugData);
		if (named != null) {
			return named;
		}
		return (errorCode != 0) ? CloseReason.ERROR : CloseReason.PEER_GOAWAY;
	}

	/**
	 * The close reason a received GOAWAY is evidence for: the reason it names, and
	 * {@code peer_goaway} for the rest, errors included (the peer's error is not this side's).
	 */
	static CloseReason evidenceOfGoAwayReceived(CloseReason meaning) {
		return (meaning == CloseReason.ERROR) ? CloseReason.PEER_GOAWAY : meaning;
	}

	/**
	 * The reason a GOAWAY's debug data names, if it is one of grpc-java's or the starter's
	 * {@value #DRAINED_DEBUG_DATA}.
	 */
	private static @Nullable CloseReason fromDebugData(String debugData) {
		return switch (debugData) {
			case "max_idle" -> CloseReason.MAX_IDLE;
			case "max_age" -> CloseReason.MAX_AGE;
			case "too_many_pings" -> CloseReason.TOO_MANY_PINGS;
			case DRAINED_DEBUG_DATA -> CloseReason.DRAINED;
			default -> null;
		};
	}

}
