package dev.grpckeepalive.connection;

/**
 * Why grpc-java sent a PING, told apart by the fixed payloads it uses
 * ({@code NettyClientHandler}, {@code NettyServerHandler}, {@code AbstractNettyHandler}).
 */
public enum PingKind {

	/** A keepalive ping (client payload 1111, also used for application pings; server payload 0xDEAD). */
	KEEPALIVE,

	/** A flow-control window (bandwidth-delay product) measurement, payload 1234. */
	BDP,

	/** The ping between the two GOAWAY frames of a graceful server shutdown, payload 0x97ACEF001. */
	SHUTDOWN,

	/** Any other payload: a peer that is not grpc-java, or a future grpc-java. */
	OTHER;

	public static final long CLIENT_KEEPALIVE_PAYLOAD = 1111;

	public static final long SERVER_KEEPALIVE_PAYLOAD = 0xDEADL;

	public static final long BDP_PAYLOAD = 1234;

	public static final long SHUTDOWN_PAYLOAD = 0x97ACEF001L;

	public static PingKind of(long payload) {
		if (payload == CLIENT_KEEPALIVE_PAYLOAD || payload == SERVER_KEEPALIVE_PAYLOAD) {
			return KEEPALIVE;
		}
		if (payload == BDP_PAYLOAD) {
			return BDP;
		}
		if (payload == SHUTDOWN_PAYLOAD) {
			return SHUTDOWN;
		}
		return OTHER;
	}

	/** The lower-case name used in JSON and as a metric tag. */
	public String tag() {
		return name().toLowerCase(java.util.Locale.ROOT);
	}

}
