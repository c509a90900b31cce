package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the kernel holds, read from {@code /proc/net/tcp} and {@code /proc/net/tcp6}: the TCP
 * sockets of a local port other than its listener, in any state (a socket an application
 * closed but the kernel still keeps, for instance with unsent data, counts).
 */
public final class KernelSockets {

	private static final String LISTEN = "0A";

	private KernelSockets() {
	}

	/** The states (kernel hex codes, e.g. {@code 01} established) of the non-listening sockets of {@code port}. */
	public static List<String> connections(int port) throws IOException {
		String localPort = ":" + String.format(Locale.ROOT, "%04X", port);
		List<String> states = new ArrayList<>();
		for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
			Path path = Path.of(table);
			if (!Files.exists(path)) {
				continue;
			}
			for (String line : Files.readAllLines(path)) {
				String[] fields = line.trim().split("\\s+");
				if (fields.length > 3 && fields[1].endsWith(localPort) && !LISTEN.equals(fields[3])) {
					states.add(fields[3]);
				}
			}
		}
		return states;
	}

	/**
	 * Polls until {@code port} has no socket left but its listener; returns the
	 * {@link System#nanoTime()} it saw that first, or {@code -1} if that did not happen within
	 * {@code timeout}.
	 */
	public static long awaitNoConnections(int port, Duration timeout) throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (System.nanoTime() < deadline) {
			if (connections(port).isEmpty()) {
				return System.nanoTime();
			}
			Thread.sleep(50);
		}
		return -1;
	}

}
