package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.grpckeepalive.test.FaultInjection;

/**
 * Three network namespaces created for one test, {@code client}, {@code router} and
 * {@code server}, joined by two veth pairs (a random /29 in 10.232.0.0/16, split in two /30s:
 * client-router and router-server), the router forwarding between them: a silent middlebox.
 * The router tracks connections (nf_conntrack) and forgets an established TCP connection after
 * {@code conntrackTimeout} without a packet ({@code net.netfilter.nf_conntrack_tcp_timeout_established},
 * per namespace); with {@code nf_conntrack_tcp_loose=0} it will not pick a forgotten connection
 * up again from a mid-stream packet, and its nftables ruleset drops every packet conntrack does
 * not know ({@code ct state invalid drop}): the connection dies with no FIN, no RST and no ICMP,
 * as behind a stateful firewall or NAT that forgot it. {@link #close()} deletes the three
 * namespaces, and with them the links, routes and ruleset. Requires root and nftables.
 */
final class RoutedLink implements AutoCloseable {

	private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+)");

	private final String clientNamespace;

	private final String routerNamespace;

	private final String serverNamespace;

	private final String clientAddress;

	private final String routerClientSide;

	private final String routerServerSide;

	private final String serverAddress;

	private final List<String> created = new ArrayList<>();

	/** Deletes the namespaces if this JVM exits without closing the link (a surefire timeout, say). */
	private final Thread deleteOnExit = new Thread(this::deleteNamespaces, "netns-delete");

	private RoutedLink() {
		String id = Long.toString(ProcessHandle.current().pid() % 100_000) + "-"
				+ ThreadLocalRandom.current().nextInt(1000);
		this.clientNamespace = "gk-cli-" + id;
		this.routerNamespace = "gk-rtr-" + id;
		this.serverNamespace = "gk-srv-" + id;
		int block = ThreadLocalRandom.current().nextInt(256 * 32);
		String prefix = "10.232." + (block / 32) + ".";
		int base = (block % 32) * 8;
		this.routerClientSide = prefix + (base + 1);
		this.clientAddress = prefix + (base + 2);
		this.routerServerSide = prefix + (base + 5);
		this.serverAddress = prefix + (base + 6);
	}

	/**
	 * Creates the namespaces, or skips the test (fails it where
	 * {@value FaultInjection#REQUIRED} is {@code true}) when nftables is missing or the kernel
	 * cannot track connections in a namespace.
	 */
	static RoutedLink create(String scenario, Duration conntrackTimeout) throws Exception {
		FaultInjection.requireNetworkNamespaces(scenario);
		FaultInjection.requireProgram(scenario, "nft", "--version", "nftables");
		RoutedLink link = new RoutedLink();
		try {
			link.setUp(scenario, conntrackTimeout);
			return link;
		}
		catch (Exception | AssertionError ex) {
			link.close();
			throw ex;
		}
	}

	private void setUp(String scenario, Duration conntrackTimeout) throws Exception {
		Runtime.getRuntime().addShutdownHook(this.deleteOnExit);
		for (String namespace : List.of(this.clientNamespace, this.routerNamespace, this.serverNamespace)) {
			NamespacedLink.run(List.of("ip", "netns", "add", namespace), true);
			this.created.add(namespace);
			ipIn(namespace, "link", "set", "lo", "up");
		}
		// veth names are limited to 15 characters: name them after the namespace-unique suffix
		String suffix = this.routerNamespace.substring("gk-rtr-".length());
		pair(this.clientNamespace, "vc" + suffix, this.clientAddress, this.routerClientSide, "rc" + suffix);
		pair(this.serverNamespace, "vs" + suffix, this.serverAddress, this.routerServerSide, "rs" + suffix);
		ipIn(this.clientNamespace, "route", "add", "default", "via", this.routerClientSide);
		ipIn(this.serverNamespace, "route", "add", "default", "via", this.routerServerSide);

		// the ct expressions switch connection tracking on in the router's namespace (loading
		// nf_conntrack where it is a module), and with it its net.netfilter sysctls
		boolean tracking = nft("add", "table", "inet", "filter")
				&& nft("add", "chain", "inet", "filter", "forward",
						"{ type filter hook forward priority 0 ; policy accept ; }")
				&& nft("add", "rule", "inet", "filter", "forward", "ct", "state", "invalid", "counter", "drop")
				&& nft("add", "rule", "inet", "filter", "forward", "ct", "state", "new", "tcp", "flags", "&",
						"(fin|syn|rst|ack)", "!=", "syn", "counter", "drop")
				&& FaultInjection.runs(in(this.routerNamespace, "sysctl", "-w",
						"net.netfilter.nf_conntrack_tcp_timeout_established=" + conntrackTimeout.toSeconds(),
						"net.netfilter.nf_conntrack_tcp_loose=0").toArray(String[]::new));
		FaultInjection.require(tracking, scenario + " needs connection tracking in a network namespace (kernel "
				+ "nf_conntrack and nftables' ct expressions, CONFIG_NF_CONNTRACK and CONFIG_NFT_CT; 'modprobe "
				+ "nf_conntrack' where they are modules): 'nft add rule inet filter forward ct state invalid drop' "
				+ "or 'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established' failed in the router namespace");
		NamespacedLink.run(in(this.routerNamespace, "sysctl", "-w", "net.ipv4.ip_forward=1"), true);
	}

	private void pair(String namespace, String end, String address, String routerAddress, String routerEnd)
			throws Exception {
		NamespacedLink.run(List.of("ip", "link", "add", end, "netns", namespace, "type", "veth", "peer", "name",
				routerEnd, "netns", this.routerNamespace), true);
		ipIn(namespace, "addr", "add", address + "/30", "dev", end);
		ipIn(this.routerNamespace, "addr", "add", routerAddress + "/30", "dev", routerEnd);
		ipIn(namespace, "link", "set", end, "up");
		ipIn(this.routerNamespace, "link", "set", routerEnd, "up");
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

	/** How many packets the router dropped because conntrack did not know their connection. */
	long droppedPackets() throws Exception {
		String chain = NamespacedLink.run(in(this.routerNamespace, "nft", "list", "chain", "inet", "filter", "forward"),
				true);
		long dropped = 0;
		Matcher counter = COUNTER.matcher(chain);
		while (counter.find()) {
			dropped += Long.parseLong(counter.group(1));
		}
		return dropped;
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
			// deleting a namespace deletes its ends of the veth pairs, and so the pairs
			try {
				NamespacedLink.run(List.of("ip", "netns", "del", namespace), false);
			}
			catch (Exception ex) {
				// best effort: the next namespace still gets its chance
			}
		}
	}

	private boolean nft(String... arguments) {
		List<String> command = new ArrayList<>(List.of("nft"));
		command.addAll(List.of(arguments));
		return FaultInjection.runs(in(this.routerNamespace, command.toArray(String[]::new)).toArray(String[]::new));
	}

	private void ipIn(String namespace, String... arguments) throws Exception {
		List<String> command = new ArrayList<>(List.of("ip"));
		command.addAll(List.of(arguments));
		NamespacedLink.run(in(namespace, command.toArray(String[]::new)), true);
	}

	private static List<String> in(String namespace, String... command) {
		List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
		all.addAll(List.of(command));
		return all;
	}

}
