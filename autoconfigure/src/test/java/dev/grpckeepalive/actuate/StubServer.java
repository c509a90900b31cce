package dev.grpckeepalive.actuate;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.ObservedGrpcServer;

/** A running server known only by its connections: what the meter binder reads, without a gRPC server. */
final class StubServer {

	private StubServer() {
	}

	static ObservedGrpcServer of(ConnectionTrackerView tracker) {
		return new ObservedGrpcServer() {

			@Override
			public int getPort() {
				return 0;
			}

			@Override
			public boolean isRunning() {
				return true;
			}

			@Override
			public ServerKeepAliveSettings getSettings() {
				throw new UnsupportedOperationException("not needed by the meters");
			}

			@Override
			public ConnectionTrackerView getConnections() {
				return tracker;
			}

		};
	}

}
