package dev.grpckeepalive.test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports free on loopback, for a process that must be told its port before it starts (HAProxy,
 * a server that restarts behind the same address).
 *
 * <p>They are taken below the kernel's ephemeral range ({@code ip_local_port_range}), where
 * neither a client socket's local port nor a port-0 server can land: the reconnecting floods
 * and proxies of other tests open thousands of client sockets, and one of them could
 * otherwise take a port between this check and its use. Within this JVM no port is handed
 * out twice (a cursor walks the range from a random start); each is checked by binding it
 * without {@code SO_REUSEADDR}, so a port with a socket left in TIME_WAIT is skipped too.
 */
public final class FreePorts {

	private static final int LOWEST = 10000;

	private static final int HIGHEST = ephemeralRangeStart() - 1;

	private static final AtomicInteger cursor = new AtomicInteger(
			ThreadLocalRandom.current().nextInt(HIGHEST - LOWEST + 1));

	private FreePorts() {
	}

	/** {@code count} ports free on loopback right now, all different. */
	public static int[] take(int count) throws IOException {
		int[] ports = new int[count];
		for (int i = 0; i < count; i++) {
			ports[i] = take();
		}
		return ports;
	}

	/** One port free on loopback right now. */
	public static int take() throws IOException {
		int span = HIGHEST - LOWEST + 1;
		for (int attempt = 0; attempt < span; attempt++) {
			int port = LOWEST + Math.floorMod(cursor.getAndIncrement(), span);
			if (isFree(port)) {
				return port;
			}
		}
		throw new IOException("no free port on loopback between " + LOWEST + " and " + HIGHEST);
	}

	private static boolean isFree(int port) {
		try (ServerSocket socket = new ServerSocket()) {
			socket.setReuseAddress(false);
			socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/** The first port of the kernel's ephemeral range; Linux's default where it cannot be read. */
	private static int ephemeralRangeStart() {
		try {
			String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
			int start = Integer.parseInt(range.split("\\s+")[0]);
			return (start > LOWEST + 1000) ? start : 32768;
		}
		catch (IOException | RuntimeException ex) {
			return 32768;
		}
	}

}
