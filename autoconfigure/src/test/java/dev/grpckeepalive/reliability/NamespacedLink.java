package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces created for one test, {@code server} and {@code client}, joined by a
 * veth pair with an address at each end (a random /30 in 10.231.0.0/16): two hosts on one
 * machine. {@link #blackhole()} adds a blackhole route on each side towards the other, so that
 * packets vanish without FIN, RST or ICMP, as when a peer or the path dies; {@link #heal()}
 * removes them. {@link #close()} deletes both namespaces, and with them the link and routes.
 * Requires root.
 */
final class NamespacedLink implements AutoCloseable {

	private final String serverNamespace;

	private final String clientNamespace;

	private final String serverAddress;

	private final String clientAddress;

	private final List<String> created = new ArrayList<>();

	/** Deletes the namespaces if this JVM exits without closing the link (a surefire timeout, say). */
	private final Thread deleteOnExit = new Thread(this::deleteNamespaces, "netns-delete");

	private NamespacedLink() {
		String id = Long.toString(ProcessHandle.current().pid() % 100_000) + "-"
				+ ThreadLocalRandom.current().nextInt(1000);
		this.serverNamespace = "gk-srv-" + id;
		this.clientNamespace = "gk-cli-" + id;
		int subnet = ThreadLocalRandom.current().nextInt(64 * 256);
		String prefix = "10.231." + (subnet / 64) + ".";
		int base = (subnet % 64) * 4;
		this.serverAddress = prefix + (base + 1);
		this.clientAddress = prefix + (base + 2);
	}

	static NamespacedLink create() throws Exception {
		NamespacedLink link = new NamespacedLink();
		try {
			link.setUp();
			return link;
		}
		catch (Exception | AssertionError ex) {
			link.close();
			throw ex;
		}
	}

	private void setUp() throws Exception {
		Runtime.getRuntime().addShutdownHook(this.deleteOnExit);
		for (String namespace : List.of(this.serverNamespace, this.clientNamespace)) {
			ip("netns", "add", namespace);
			this.created.add(namespace);
			ipIn(namespace, "link", "set", "lo", "up");
		}
		// veth names are limited to 15 characters: name them after the namespace-unique suffix
		String suffix = this.serverNamespace.substring("gk-srv-".length());
		String serverEnd = "vs" + suffix;
		String clientEnd = "vc" + suffix;
		ip("link", "add", serverEnd, "netns", this.serverNamespace, "type", "veth", "peer", "name", clientEnd,
				"netns", this.clientNamespace);
		ipIn(this.serverNamespace, "addr", "add", this.serverAddress + "/30", "dev", serverEnd);
		ipIn(this.clientNamespace, "addr", "add", this.clientAddress + "/30", "dev", clientEnd);
		ipIn(this.serverNamespace, "link", "set", serverEnd, "up");
		ipIn(this.clientNamespace, "link", "set", clientEnd, "up");
	}

	/** The command prefix that runs a program inside the server namespace. */
	List<String> inServer() {
		return List.of("ip", "netns", "exec", this.serverNamespace);
	}

	/** The command prefix that runs a program inside the client namespace. */
	List<String> inClient() {
		return List.of("ip", "netns", "exec", this.clientNamespace);
	}

	String serverAddress() {
		return this.serverAddress;
	}

	/** From now on, packets between the two ends vanish, in both directions. */
	void blackhole() throws Exception {
		ipIn(this.clientNamespace, "route", "add", "blackhole", this.serverAddress + "/32");
		ipIn(this.serverNamespace, "route", "add", "blackhole", this.clientAddress + "/32");
	}

	/** Removes the blackhole routes. */
	void heal() throws Exception {
		ipIn(this.clientNamespace, "route", "del", "blackhole", this.serverAddress + "/32");
		ipIn(this.serverNamespace, "route", "del", "blackhole", this.clientAddress + "/32");
	}

	@Override
	public void close() {
		deleteNamespaces();
		try {
			Runtime.getRuntime().removeShutdownHook(this.deleteOnExit);
		}
		catch (IllegalStateException ex) {
			// this JVM is exiting already
		}
	}

	private void deleteNamespaces() {
		for (String namespace : this.created) {
			// deleting a namespace deletes its end of the veth pair, and so the pair
			try {
				run(List.of("ip", "netns", "del", namespace), false);
			}
			catch (Exception ex) {
				// best effort: the next namespace still gets its chance
			}
		}
	}

	private void ipIn(String namespace, String... arguments) throws Exception {
		List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "ip"));
		command.addAll(List.of(arguments));
		run(command, true);
	}

	private static void ip(String... arguments) throws Exception {
		List<String> command = new ArrayList<>(List.of("ip"));
		command.addAll(List.of(arguments));
		run(command, true);
	}

	/** Runs {@code command}, waiting up to ten seconds; when {@code required}, a failure throws with its output. */
	static String run(List<String> command, boolean required) throws Exception {
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes());
		boolean done = process.waitFor(10, TimeUnit.SECONDS);
		if (required && (!done || process.exitValue() != 0)) {
			throw new IOException(String.join(" ", command) + " failed: " + output.trim());
		}
		return output;
	}

}
