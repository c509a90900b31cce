package dev.grpckeepalive.test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Ports free on loopback, for a process that must be told its port before it starts (HAProxy,
 * a server that restarts behind the same address). Another process could take one before it
 * is used; tests where that matters retry.
 */
public final class FreePorts {

	private FreePorts() {
	}

	/** {@code count} ports free on loopback right now, all different. */
	public static int[] take(int count) throws IOException {
		List<ServerSocket> sockets = new ArrayList<>();
		try {
			int[] ports = new int[count];
			for (int i = 0; i < count; i++) {
				ServerSocket socket = new ServerSocket();
				sockets.add(socket);
				socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
				ports[i] = socket.getLocalPort();
			}
			return ports;
		}
		finally {
			for (ServerSocket socket : sockets) {
				socket.close();
			}
		}
	}

	/** One port free on loopback right now. */
	public static int take() throws IOException {
		return take(1)[0];
	}

}
