package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * One page of open connections: those opened after the cursor that match every filter given,
 * oldest first, at most {@code limit}. See {@link ConnectionTrackerView#openConnections(ConnectionQuery)}.
 *
 * @param after the number of the connection the page starts after ({@code 42} for {@code s-42}), {@code 0}
 * for the oldest open connection; a closed connection's number is as good a cursor as an open one's
 * @param limit at most this many connections, at least 1
 * @param states the states to keep; empty for every state
 * @param remotePrefix what the peer's address, as the endpoint shows it without what precedes its
 * {@code /} ({@code 10.1.2.3:51234}), starts with; {@code null} for any peer
 * @param userAgent text the client's {@code user-agent} contains; {@code null} for any client, also one
 * that has sent no stream yet (whose user agent is unknown, and which no user-agent filter matches)
 * @param minAge the least age; {@code null} for any
 * @param minIdle the least time without calls (0 while calls are in flight); {@code null} for any
 */
public record ConnectionQuery(long after, int limit, Set<ConnectionState> states, @Nullable String remotePrefix,
		@Nullable String userAgent, @Nullable Duration minAge, @Nullable Duration minIdle) {

	public ConnectionQuery {
		if (after < 0) {
			throw new IllegalArgumentException("after must be 0 or a connection number, was " + after);
		}
		if (limit < 1) {
			throw new IllegalArgumentException("limit must be at least 1, was " + limit);
		}
		states = states.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(states));
	}

	/** The first {@code limit} open connections, unfiltered. */
	public static ConnectionQuery first(int limit) {
		return new ConnectionQuery(0, limit, Set.of(), null, null, null, null);
	}

	/**
	 * Whether a connection with these figures, read at one instant, passes every filter; the
	 * cheap comparisons first, the peer's address (which prints to a new string) last.
	 */
	boolean matches(ConnectionState state, long ageNanos, long idleNanos, @Nullable String userAgent,
			@Nullable SocketAddress remote) {
		if (this.minAge != null && ageNanos < this.minAge.toNanos()) {
			return false;
		}
		if (this.minIdle != null && idleNanos < this.minIdle.toNanos()) {
			return false;
		}
		if (!this.states.isEmpty() && !this.states.contains(state)) {
			return false;
		}
		if (this.userAgent != null && (userAgent == null || !userAgent.contains(this.userAgent))) {
			return false;
		}
		return this.remotePrefix == null || remoteStartsWith(remote, this.remotePrefix);
	}

	/** Whether the address as Java prints it, without a host name and its {@code /}, starts with {@code prefix}. */
	static boolean remoteStartsWith(@Nullable SocketAddress remote, String prefix) {
		if (remote == null) {
			return false;
		}
		String text = remote.toString();
		return text.startsWith(prefix, text.indexOf('/') + 1);
	}

}
