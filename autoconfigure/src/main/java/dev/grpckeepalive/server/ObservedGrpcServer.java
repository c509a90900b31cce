package dev.grpckeepalive.server;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTrackerView;

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

}
