package dev.grpckeepalive.connection;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The connections of the server, or of one channel, read-only: the open ones, a bounded
 * history of recently closed ones, and totals (opened, closed by reason, PINGs, GOAWAYs).
 * What {@code ObservedGrpcServer.getConnections()} and {@code TrackedChannel.connections()}
 * hand the application; only the starter writes.
 */
public interface ConnectionTrackerView {

	/** Which end of the connections this is. */
	Side side();

	/** The channel name, or {@code server}. */
	String name();

	/** Whether PING and GOAWAY figures are collected (the frame observer is on). */
	boolean isFramesObserved();

	/** The open connections, oldest first. */
	List<ConnectionSnapshot> openConnections();

	/** The most recently closed connections, oldest first, at most 100. */
	List<ConnectionSnapshot> recentlyClosed();

	/** An open or recently closed connection by its id, such as {@code s-42}. */
	Optional<ConnectionSnapshot> find(String id);

	/** Connections open now, draining ones included. */
	int activeConnections();

	/** Connections opened since start. */
	long openedConnections();

	/** Connections the server reset at accept since start, over its cap on open connections; 0 for a channel. */
	long refusedConnections();

	/** Connections closed since start for this reason. */
	long closedConnections(CloseReason reason);

	/** Calls in flight, over all connections. */
	int activeCalls();

	/** PING figures over all connections since start (read-only to the application). */
	PingStatistics pings();

	/** GOAWAY counts of one direction by reason tag (a close reason or {@code other}). */
	Map<String, Long> goAways(GoAway.Direction direction);

	/** How many GOAWAYs of one direction had this reason tag. */
	long goAwayCount(GoAway.Direction direction, String reasonTag);

	/** Whether a keepalive timeout happened within {@code window} of now. */
	boolean keepAliveTimeoutWithin(Duration window);

	/** Whether a {@code too_many_pings} GOAWAY was seen within {@code window} of now. */
	boolean tooManyPingsWithin(Duration window);

	/** Subscribes to every PING round trip and every close, as meters that need each sample do. */
	void addListener(ConnectionListener listener);

	/** Callbacks for meters that need every sample, not only totals. Called on event loops: return quickly. */
	interface ConnectionListener {

		/** A PING this side sent was acknowledged after {@code roundTripNanos}. */
		default void pingAcknowledged(ConnectionTrackerView tracker, PingKind kind, long roundTripNanos) {
		}

		/** A connection closed; {@code connection} is its final state. */
		default void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		}

	}

}
