package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.grpckeepalive.test.ExternalProcess;
import dev.grpckeepalive.test.FaultInjection;
import dev.grpckeepalive.test.FreePorts;

/**
 * HAProxy in TCP mode (or HTTP mode with {@code proto h2} on both sides: {@link #http}) on
 * loopback, in front of one backend of servers on loopback, for the scenarios that need a real
 * middlebox. {@link Config#start} writes the configuration to a
 * temporary directory, runs {@code haproxy -db -f <file>} in the foreground and returns
 * once the proxy accepts; {@link #close} kills the process and deletes the directory, so
 * that a failed test leaves neither behind.
 *
 * <p>Readiness and server states come from a second listener (HTTP, {@code /ready} and
 * {@code /stats;csv}), so that waiting for the proxy opens no connection to a backend.
 */
public final class HaProxy implements AutoCloseable {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

	private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private final Process process;

	private final Path directory;

	private final Path log;

	private final int port;

	private final int adminPort;

	private HaProxy(Process process, Path directory, Path log, int port, int adminPort) {
		this.process = process;
		this.directory = directory;
		this.log = log;
		this.port = port;
		this.adminPort = adminPort;
	}

	/** Skips (or, in CI, fails) the scenario where HAProxy is not installed. */
	public static void require(String scenario) {
		FaultInjection.requireProgram(scenario, "haproxy", "-v", "haproxy");
	}

	/** A TCP-mode proxy with these idle timeouts on its client and server sides. */
	static Config tcp(Duration clientTimeout, Duration serverTimeout) {
		return new Config(clientTimeout, serverTimeout);
	}

	/**
	 * An HTTP-mode proxy that speaks HTTP/2 without TLS to its clients and to its servers
	 * ({@code proto h2} on both sides), with {@code http-reuse always}: every client's streams
	 * share the proxy's backend connections, as a gRPC load balancer does.
	 */
	public static Config http(Duration clientTimeout, Duration serverTimeout) {
		Config config = new Config(clientTimeout, serverTimeout);
		config.http = true;
		return config;
	}

	/** The proxy's address as a gRPC target. */
	public String target() {
		return "127.0.0.1:" + this.port;
	}

	int port() {
		return this.port;
	}

	/** HAProxy's view of each backend server: its status ({@code UP}, {@code DOWN}, ...) and sessions. */
	Map<String, ServerStats> servers() throws IOException, InterruptedException {
		Map<String, ServerStats> servers = new LinkedHashMap<>();
		String csv = adminGet("/stats;csv");
		String[] header = null;
		for (String line : csv.split("\n")) {
			if (line.startsWith("# ")) {
				header = line.substring(2).split(",", -1);
				continue;
			}
			String[] fields = line.split(",", -1);
			if (header == null || fields.length < header.length || !Config.BACKEND.equals(fields[0])
					|| "BACKEND".equals(fields[1])) {
				continue;
			}
			Map<String, String> row = new LinkedHashMap<>();
			for (int i = 0; i < header.length; i++) {
				row.put(header[i], fields[i]);
			}
			servers.put(row.get("svname"), new ServerStats(row.get("status"), Long.parseLong(row.get("scur")),
					Long.parseLong(row.get("stot"))));
		}
		return servers;
	}

	/** What HAProxy wrote (it logs only warnings and alerts here), for failure messages. */
	/** Whether each server is up, by name, as the proxy's health checks see it now. */
	Map<String, Boolean> upStates() throws IOException, InterruptedException {
		Map<String, Boolean> states = new LinkedHashMap<>();
		servers().forEach((name, stats) -> states.put(name, stats.isUp()));
		return states;
	}

	public String output() {
		try {
			return Files.readString(this.log);
		}
		catch (IOException ex) {
			return "(no output: " + ex + ")";
		}
	}

	private String adminGet(String path) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.adminPort + path))
			.timeout(Duration.ofSeconds(5))
			.build();
		HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
		if (response.statusCode() != 200) {
			throw new IOException("GET " + path + " answered " + response.statusCode());
		}
		return response.body();
	}

	@Override
	public void close() {
		ExternalProcess.stopAndDelete(this.process, 5, this.directory);
	}

	/** HAProxy's figures for one backend server. */
	record ServerStats(String status, long currentSessions, long totalSessions) {

		boolean isUp() {
			return this.status.startsWith("UP");
		}

	}

	/** The configuration of one proxy: a frontend, one backend, its servers. */
	public static final class Config {

		static final String BACKEND = "replicas";

		private final Duration clientTimeout;

		private final Duration serverTimeout;

		private String balance = "roundrobin";

		private boolean http;

		private final List<String> servers = new ArrayList<>();

		private Config(Duration clientTimeout, Duration serverTimeout) {
			this.clientTimeout = clientTimeout;
			this.serverTimeout = serverTimeout;
		}

		Config balance(String algorithm) {
			this.balance = algorithm;
			return this;
		}

		/** Adds a server on loopback; {@code options} as in HAProxy, such as {@code check inter 500ms}. */
		Config server(String name, int port, String options) {
			this.servers.add(name + " 127.0.0.1:" + port + (options.isEmpty() ? "" : " " + options));
			return this;
		}

		public Config server(String name, int port) {
			return server(name, port, "");
		}

		String render(int port, int adminPort) {
			StringBuilder cfg = new StringBuilder();
			cfg.append("global\n");
			cfg.append("    maxconn 2000\n");
			cfg.append("defaults\n");
			cfg.append(this.http ? "    mode http\n" : "    mode tcp\n");
			cfg.append("    timeout connect 2s\n");
			cfg.append("    timeout client ").append(this.clientTimeout.toMillis()).append("ms\n");
			cfg.append("    timeout server ").append(this.serverTimeout.toMillis()).append("ms\n");
			// a connection refused by a server (one not started yet) is retried on another
			cfg.append("    retries 2\n");
			cfg.append("    option redispatch\n");
			cfg.append("frontend grpc\n");
			cfg.append("    bind 127.0.0.1:").append(port).append(this.http ? " proto h2\n" : "\n");
			cfg.append("    default_backend ").append(BACKEND).append('\n');
			cfg.append("backend ").append(BACKEND).append('\n');
			cfg.append("    balance ").append(this.balance).append('\n');
			if (this.http) {
				cfg.append("    http-reuse always\n");
			}
			for (String server : this.servers) {
				cfg.append("    server ").append(server).append(this.http ? " proto h2\n" : "\n");
			}
			// readiness and stats on their own listener: asking them never touches a backend
			cfg.append("frontend admin\n");
			cfg.append("    mode http\n");
			cfg.append("    timeout client 10s\n");
			cfg.append("    bind 127.0.0.1:").append(adminPort).append('\n');
			cfg.append("    monitor-uri /ready\n");
			cfg.append("    stats enable\n");
			cfg.append("    stats uri /stats\n");
			return cfg.toString();
		}

		/** Starts HAProxy with this configuration on free loopback ports and waits until it accepts. */
		public HaProxy start() throws IOException, InterruptedException {
			IOException failure = null;
			// a free port can be taken by someone else before HAProxy binds it: try again then
			for (int attempt = 0; attempt < 3; attempt++) {
				int[] ports = FreePorts.take(2);
				try {
					return start(ports[0], ports[1]);
				}
				catch (IOException ex) {
					failure = ex;
				}
			}
			throw failure;
		}

		private HaProxy start(int port, int adminPort) throws IOException, InterruptedException {
			Path directory = Files.createTempDirectory("haproxy-");
			Path file = directory.resolve("haproxy.cfg");
			Path log = directory.resolve("haproxy.log");
			Files.writeString(file, render(port, adminPort), StandardCharsets.UTF_8);
			Process process;
			try {
				process = new ProcessBuilder("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true)
					.redirectOutput(log.toFile())
					.start();
			}
			catch (IOException ex) {
				ExternalProcess.deleteQuietly(directory);
				throw ex;
			}
			HaProxy proxy = new HaProxy(process, directory, log, port, adminPort);
			try {
				proxy.awaitReady();
				return proxy;
			}
			catch (IOException | InterruptedException | RuntimeException ex) {
				String output = proxy.output();
				proxy.close();
				throw new IOException("HAProxy did not start: " + ex.getMessage() + "\n" + output, ex);
			}
		}

	}

	private void awaitReady() throws IOException, InterruptedException {
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				throw new IOException("exited with status " + this.process.exitValue());
			}
			try {
				adminGet("/ready");
				return;
			}
			catch (IOException ex) {
				Thread.sleep(50);
			}
		}
		throw new IOException("not ready within " + START_TIMEOUT.toSeconds() + "s");
	}

}
