package dev.grpckeepalive.server;

import java.time.Duration;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.DrainResult;

/**
 * A gRPC server whose connections this starter tracks: its own {@link KeepAliveGrpcServer},
 * or Spring Boot's server in companion mode. The endpoint, health and meters read this.
 */
public interface ObservedGrpcServer {

	/** The port the server listens on. */
	int getPort();

	/** Whether the server is serving. */
	boolean isRunning();

	/** The keepalive settings in force on the server, requested and effective. */
	ServerKeepAliveSettings getSettings();

	/** The server's connections: open, recently closed, and totals. */
	ConnectionTrackerView getConnections();

	/**
	 * Drains one open connection, an operator's action (the endpoint's write operations):
	 * GOAWAY {@code drained}, then the close once its calls are done or after {@code grace};
	 * close reason {@code drained}.
	 * @param connectionId the connection's id, such as {@code s-42}
	 * @param grace how long its calls in flight get
	 * @return what was done; {@link DrainResult#NOT_DRAINABLE} for a server that cannot drain
	 */
	default DrainResult drain(String connectionId, Duration grace) {
		return DrainResult.NOT_DRAINABLE;
	}

}
