package dev.grpckeepalive.connection;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

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

	/**
	 * A page of the open connections, oldest first: those opened after the query's cursor that
	 * match its filters, at most its limit. The connections are kept in the order they opened,
	 * so the page seeks to its cursor and stops after its limit: it neither copies nor sorts
	 * the others, and only the connections it returns become snapshots. A filter that matches
	 * rarely walks further, up to every connection opened after the cursor. Paging with the
	 * last number of each page as the next cursor returns every connection that stays open
	 * exactly once; one that opens meanwhile is on a later page (two that open on different
	 * event loops at the same instant can enter the order after each other's numbers, and a
	 * page read at exactly that moment can list the higher number and pass the lower).
	 */
	List<ConnectionSnapshot> openConnections(ConnectionQuery query);

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

	/**
	 * How many times grpc-java doubled this channel's keepalive time after a GOAWAY
	 * {@code too_many_pings}; it applies the doubled time to the connections it opens next.
	 * Always 0 for the server.
	 */
	default int keepAliveBackoffs() {
		return 0;
	}

	/** The id, such as {@code s-42}, of the connection with this number. */
	String connectionId(long number);

	/** Subscribes to every PING round trip and every close, as meters that need each sample do. */
	void addListener(ConnectionListener listener);

	/** Callbacks for meters that need every sample, not only totals. Called on event loops: return quickly. */
	interface ConnectionListener {

		/** A PING this side sent was acknowledged after {@code roundTripNanos}. */
		default void pingAcknowledged(ConnectionTrackerView tracker, PingKind kind, long roundTripNanos) {
		}

		/**
		 * The client sent a PING (server side only), with what grpc-java's keepalive enforcer
		 * makes of it: a strike when it came sooner than permit-time after the last valid one (2h
		 * when the connection had no calls and permit-without-calls is off), the count reset when
		 * the server sends HEADERS or DATA; more than 2 strikes and grpc-java closes the connection
		 * with GOAWAY {@code too_many_pings}.
		 * @param tracker the server's tracker
		 * @param connection the connection number, see {@link ConnectionTrackerView#connectionId}
		 * @param userAgent the client's {@code user-agent}, or {@code null} before its first stream (any method)
		 * @param kind the PING's kind, as its payload tells (grpc-java's and grpc-go's BDP PINGs)
		 * or, for gRPC C-core, its timing (its first PING right after the server's DATA); BDP
		 * PINGs count as strikes too
		 * @param intervalNanos time since the client's previous PING on the connection; for the
		 * first, since the server last sent HEADERS or DATA, or since the connection opened
		 * @param withoutCalls whether the connection had no calls in flight
		 * @param strike whether this PING is a strike
		 * @param strikes the connection's strikes, this PING included
		 */
		default void peerPing(ConnectionTrackerView tracker, long connection, @Nullable String userAgent,
				PingKind kind, long intervalNanos, boolean withoutCalls, boolean strike, int strikes) {
		}

		/**
		 * This side sent a keepalive PING after {@code idleNanos} without reading a frame: the
		 * keepalive time in force on the wire.
		 */
		default void keepAlivePingSent(ConnectionTrackerView tracker, long connection, long idleNanos) {
		}

		/**
		 * A silence of at least a second on a connection (no frame in either direction) ended
		 * with frames from the peer: the path kept the connection through it. The peer's frame
		 * that ends it, or its answer to the frame this side wrote to end it.
		 * @param tracker the tracker
		 * @param connection the connection number, see {@link ConnectionTrackerView#connectionId}
		 * @param silenceNanos how long the silence lasted
		 * @param withCalls whether calls were in flight through it (a channel counts calls per channel)
		 */
		default void silenceSurvived(ConnectionTrackerView tracker, long connection, long silenceNanos,
				boolean withCalls) {
		}

		/** A connection closed; {@code connection} is its final state. */
		default void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		}

	}

}
