package dev.grpckeepalive.sample;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** A port for the sample's gRPC server in tests, instead of 9090. */
final class FreeGrpcPort {

	private FreeGrpcPort() {
	}

	/**
	 * A port the server can bind on all interfaces without {@code SO_REUSEADDR}. A loopback probe
	 * with {@code SO_REUSEADDR} (Java's default) does not promise that while the port is the local
	 * end of a connection in TIME_WAIT, which tests that ran before leave by the thousand.
	 */
	static int pick() throws IOException {
		try (ServerSocket socket = new ServerSocket()) {
			socket.setReuseAddress(false);
			socket.bind(new InetSocketAddress(0));
			return socket.getLocalPort();
		}
	}

}
