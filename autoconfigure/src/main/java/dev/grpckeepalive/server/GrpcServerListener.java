package dev.grpckeepalive.server;

import io.grpc.Server;

/**
 * Told by the starter's own gRPC server ({@link KeepAliveGrpcServer}) when it has started and
 * when its graceful shutdown begins. Beans of this type are called in
 * {@link org.springframework.core.Ordered order}, on the thread that starts or stops the
 * server, and must not block: the shutdown grace runs meanwhile.
 *
 * <p>The shutdown has two steps. {@link #shutdownStarting()} comes before the server refuses
 * anything: the moment to tell load balancers and probes to stop sending new calls (the
 * starter's {@code grpc.health.v1} service turns NOT_SERVING here). {@link #draining()} comes
 * right after grpc-java's GOAWAY: from then on no new call arrives, and in-flight calls have
 * {@code grpc.keepalive.server.shutdown-grace} to finish; calls that only report, such as a
 * health {@code Watch}, can end now so that they do not hold the drain.
 */
public interface GrpcServerListener {

	/**
	 * The server has started and serves {@code server.getServices()}.
	 * @param server the running grpc-java server
	 */
	default void started(Server server) {
	}

	/** The graceful shutdown begins: the server still accepts calls, its GOAWAY follows. */
	default void shutdownStarting() {
	}

	/** The server has sent its GOAWAY and refuses new calls; in-flight calls are draining. */
	default void draining() {
	}

}
