package dev.grpckeepalive.connection;

/**
 * How often grpc-java doubled a channel's keepalive time. After a GOAWAY
 * {@code too_many_pings} grpc-java's channel doubles it for the connections it opens next,
 * once per generation of connections: a GOAWAY on a connection opened before the last
 * doubling does not double it again. Written only on such a GOAWAY, so a lock costs nothing.
 */
final class KeepAliveBackoff {

	private int doublings;

	private long lastDoublingNanos = Long.MIN_VALUE;

	/**
	 * A GOAWAY {@code too_many_pings} arrived on a connection opened at {@code openedNanos}.
	 * @param openedNanos when the connection opened
	 * @param nowNanos now, on the same ticker
	 */
	synchronized void tooManyPingsReceived(long openedNanos, long nowNanos) {
		if (this.lastDoublingNanos == Long.MIN_VALUE || openedNanos - this.lastDoublingNanos >= 0) {
			this.doublings++;
			this.lastDoublingNanos = nowNanos;
		}
	}

	synchronized int doublings() {
		return this.doublings;
	}

}
