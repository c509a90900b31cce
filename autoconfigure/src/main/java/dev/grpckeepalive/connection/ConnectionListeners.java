package dev.grpckeepalive.connection;

import java.util.Arrays;

import org.jspecify.annotations.Nullable;

/**
 * The listener bus of one server or channel: hands every event to each
 * {@link ConnectionTrackerView.ConnectionListener}, naming the read-only view as the source.
 * The listeners are replaced as a whole when one is added (rarely, at startup): notifying
 * them, once per PING on a busy connection, iterates an array and allocates nothing.
 */
final class ConnectionListeners {

	private final ConnectionTrackerView source;

	private volatile ConnectionTrackerView.ConnectionListener[] listeners = new ConnectionTrackerView.ConnectionListener[0];

	ConnectionListeners(ConnectionTrackerView source) {
		this.source = source;
	}

	synchronized void add(ConnectionTrackerView.ConnectionListener listener) {
		ConnectionTrackerView.ConnectionListener[] current = this.listeners;
		ConnectionTrackerView.ConnectionListener[] added = Arrays.copyOf(current, current.length + 1);
		added[current.length] = listener;
		this.listeners = added;
	}

	void pingAcknowledged(PingKind kind, long roundTripNanos) {
		for (ConnectionTrackerView.ConnectionListener listener : this.listeners) {
			listener.pingAcknowledged(this.source, kind, roundTripNanos);
		}
	}

	void peerPing(long connection, @Nullable String userAgent, PingKind kind, long intervalNanos, boolean withoutCalls,
			boolean strike, int strikes) {
		for (ConnectionTrackerView.ConnectionListener listener : this.listeners) {
			listener.peerPing(this.source, connection, userAgent, kind, intervalNanos, withoutCalls, strike, strikes);
		}
	}

	void keepAlivePingSent(long connection, long idleNanos) {
		for (ConnectionTrackerView.ConnectionListener listener : this.listeners) {
			listener.keepAlivePingSent(this.source, connection, idleNanos);
		}
	}

	void silenceSurvived(long connection, long silenceNanos, boolean withCalls) {
		for (ConnectionTrackerView.ConnectionListener listener : this.listeners) {
			listener.silenceSurvived(this.source, connection, silenceNanos, withCalls);
		}
	}

	void connectionClosed(ConnectionSnapshot connection) {
		for (ConnectionTrackerView.ConnectionListener listener : this.listeners) {
			listener.connectionClosed(this.source, connection);
		}
	}

}
