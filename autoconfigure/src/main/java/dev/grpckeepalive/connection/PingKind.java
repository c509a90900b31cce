package dev.grpckeepalive.connection;

/**
 * Why a peer sent a PING, told apart by the fixed payloads grpc-java uses
 * ({@code NettyClientHandler}, {@code NettyServerHandler}, {@code AbstractNettyHandler}) and
 * by grpc-go's fixed BDP payload ({@code bdp_estimator.go}). grpc-go's keepalive PING carries
 * eight zero bytes, which gRPC C-core also uses for its first PING of any kind: it is
 * {@link #OTHER}. C-core numbers its PINGs and grpc-js lets node pick the payload, so their
 * kinds cannot be read from the payload (the keepalive advisor tells C-core's BDP PINGs apart
 * by behaviour instead).
 */
public enum PingKind {

	/** A keepalive ping (client payload 1111, also used for application pings; server payload 0xDEAD). */
	KEEPALIVE,

	/** A flow-control window (bandwidth-delay product) measurement: grpc-java's payload 1234, grpc-go's {2,4,16,16,9,14,7,7}. */
	BDP,

	/** The ping between the two GOAWAY frames of a graceful server shutdown, payload 0x97ACEF001. */
	SHUTDOWN,

	/** Any other payload: a peer that is not grpc-java, or a future grpc-java. */
	OTHER;

	public static final long CLIENT_KEEPALIVE_PAYLOAD = 1111;

	public static final long SERVER_KEEPALIVE_PAYLOAD = 0xDEADL;

	public static final long BDP_PAYLOAD = 1234;

	/** grpc-go's BDP PING payload, the bytes {2, 4, 16, 16, 9, 14, 7, 7} read as a big-endian long. */
	public static final long GRPC_GO_BDP_PAYLOAD = 0x0204_1010_090E_0707L;

	public static final long SHUTDOWN_PAYLOAD = 0x97ACEF001L;

	public static PingKind of(long payload) {
		if (payload == CLIENT_KEEPALIVE_PAYLOAD || payload == SERVER_KEEPALIVE_PAYLOAD) {
			return KEEPALIVE;
		}
		if (payload == BDP_PAYLOAD || payload == GRPC_GO_BDP_PAYLOAD) {
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
