package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.reliability.PrometheusServer.Alert;
import dev.grpckeepalive.reliability.PrometheusServer.Series;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.PrometheusBinaries;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fleet view on a real Prometheus (docs/fleet.md): Debian's {@code prometheus} scrapes
 * {@code /actuator/prometheus} of two services of three replicas each and of their clients'
 * application every second, and evaluates the shipped alert rules
 * (ops/prometheus/grpc-keepalive-alerts.yml) every second, with every {@code for:} shortened
 * to {@value #FOR} in the copy it loads; the rules' logic at their real durations is
 * {@code promtool}'s job (AlertRulesTests).
 *
 * <p>Each service runs scenario 3's scale-out: HAProxy in TCP mode, round-robin over three
 * replicas of which the third joins late, and 12 {@code pick_first} channels of the clients'
 * application. The third replica runs and is scraped from the start, but its load balancer
 * reaches it only through a gate that opens at the scale-out: until then it holds no
 * connection, {@code GrpcKeepaliveConnectionSkew} goes pending, then firing, for both
 * services, and stays so however late a loaded machine makes it fire (had the replica started
 * at the scale-out, {@code prices-b}'s connections could reach their maximum age, and spread,
 * before its alert had fired). Service {@code prices-a} has no {@code max-connection-age}:
 * once the gate opens its third replica stays empty and the alert keeps firing. Service
 * {@code prices-b} has {@code max-connection-age} {@value #MAX_AGE_SECONDS}s: its
 * connections spread and the alert resolves. Two channels of the
 * clients' application ping every 10s against the default {@code permit-time} of 5m:
 * {@code GrpcKeepaliveTooManyPingsClient} and {@code GrpcKeepaliveTooManyPingsServer} fire.
 * Finally every query of every panel of the shipped Grafana dashboard
 * (ops/grafana/grpc-keepalive.json) runs against this Prometheus, over the test's time range as
 * the panel would, and must return a value other than zero.
 *
 * <p>The applications run with the metrics settings the project ships, none added: prices-a
 * and the clients' application with the sample service's, prices-b with the Kubernetes
 * manifests' ({@link ShippedMetricsSettings}), so the histogram panels rest on the starter's
 * default buckets. A channel of the clients' application to a {@link MutePeer} has a keepalive
 * timeout, so that the keepalive timeouts panel has something to show.
 */
@Tag("reliability")
// A timing-sensitive scenario with eight applications in one JVM: not next to the load scenarios.
@ResourceLock("reliability-load")
class FleetPrometheusTests {

	private static final String SCENARIO = "Fleet view (alerts and dashboard on a real Prometheus)";

	private static final String FOR = "3s";

	private static final int MAX_AGE_SECONDS = 20;

	private static final int CHANNELS = 12;

	private static final long RPC_PERIOD_MILLIS = 500;

	private static final String SKEW = "GrpcKeepaliveConnectionSkew";

	/** The clients' channel to the {@link MutePeer}. */
	private static final String SILENT = "silent";

	private static final String HEALTH_CHECK = "check inter 500ms";

	private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(60);

	/** Grafana's {@code $__rate_interval} with Prometheus' default scrape interval, 15s: four of them. */
	private static final String RATE_INTERVAL = "1m";

	/** The step of the dashboard's range queries: this Prometheus' scrape interval. */
	private static final Duration STEP = Duration.ofSeconds(1);

	private static final Path RULES = PrometheusBinaries.OPS.resolve("prometheus/grpc-keepalive-alerts.yml");

	private static final Path DASHBOARD = PrometheusBinaries.OPS.resolve("grafana/grpc-keepalive.json");

	@Test
	void alertsFireAndResolveAndEveryDashboardQueryFindsSeries() throws Exception {
		PrometheusBinaries.requirePrometheus(SCENARIO);
		HaProxy.require(SCENARIO);
		long start = System.nanoTime();
		int[] grpcPorts = FreePorts.take(6);
		int[] gatePorts = FreePorts.take(2);
		ShippedMetricsSettings sample = ShippedMetricsSettings.sample();
		ShippedMetricsSettings kubernetes = ShippedMetricsSettings.kubernetes();
		Service a = new Service("prices-a", grpcPorts[0], grpcPorts[1], grpcPorts[2], gatePorts[0],
				sample.properties());
		List<String> bProperties = new ArrayList<>(kubernetes.properties());
		bProperties.addAll(List.of("grpc.keepalive.server.max-connection-age=" + MAX_AGE_SECONDS + "s",
				"grpc.keepalive.server.max-connection-age-grace=5s"));
		Service b = new Service("prices-b", grpcPorts[3], grpcPorts[4], grpcPorts[5], gatePorts[1], bProperties);
		try (a; b; HaProxy proxyA = a.proxy(); HaProxy proxyB = b.proxy(); MutePeer mute = new MutePeer()) {
			a.startReplicas();
			b.startReplicas();
			try (ConfigurableApplicationContext clients = clients(proxyA.target(), proxyB.target(), mute.target(),
					sample.properties());
					PrometheusServer prometheus = PrometheusServer.config()
						.ruleFile("grpc-keepalive-alerts.yml", shortenFor(Files.readString(RULES, StandardCharsets.UTF_8)))
						.actuatorJob(a.name, a.httpPorts())
						.actuatorJob(b.name, b.httpPorts())
						.actuatorJob("clients", TestApps.httpPort(clients))
						.start()) {
				Instant scraping = Instant.now();
				Load load = new Load(clients);
				try {
					load.start();
					// the two misconfigured channels connect now: GOAWAY too_many_pings about 30s later. The set-up's
					// bounds are on a hang only: with eight applications in one JVM, a loaded machine made a first call
					// wait more than 10 s (PING round trips of 10-12 s were measured then)
					GrpcChannels channels = clients.getBean(GrpcChannels.class);
					for (String greedy : List.of("greedy1", "greedy2")) {
						TestServiceGrpc.newBlockingStub(channels.get(greedy))
							.withDeadlineAfter(30, TimeUnit.SECONDS)
							.echo(EchoRequest.newBuilder().setText("hello").build());
					}
					// the channel to the mute peer connects now; its keepalive PING times out 10s + 1s later
					channels.get(SILENT).getState(true);
					await().atMost(Duration.ofSeconds(60))
						.until(() -> load.channels.stream()
							.allMatch((channel) -> channel.getState(false) == ConnectivityState.READY));
					double setUp = seconds(start);
					long loaded = System.nanoTime();

					// the third replicas are scraped, and unreachable: everything on the first two, the alert fires for
					// both services, and stays so until the scale-out (a connection recycled meanwhile goes to the first
					// two again); the bound is for a loaded Prometheus and test JVM, not for the connections
					Map<String, Double> pending = new LinkedHashMap<>();
					Map<String, Double> firing = new LinkedHashMap<>();
					await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
						for (Alert alert : prometheus.alerts()) {
							if (SKEW.equals(alert.name())) {
								String job = alert.labels().get("job");
								pending.putIfAbsent(job, seconds(loaded));
								if ("firing".equals(alert.state())) {
									firing.putIfAbsent(job, seconds(loaded));
								}
							}
						}
						return firing.keySet().containsAll(List.of(a.name, b.name));
					});
					// without max-connection-age: the replicas that were there hold everything, the new one nothing. Which
					// of them is over 1.3 x the mean depends on how HAProxy split the connections (7/7 fires on both, 6/8 on
					// one), so the alert names one or both of them, never the new one
					assertThat(skewAlerts(prometheus, a.name)).extracting((alert) -> alert.labels().get("instance"))
						.isNotEmpty()
						.isSubsetOf(a.instance(1), a.instance(2));
					assertThat(serverConnections(prometheus, a.name).get(a.instance(3))).isZero();

					// scale out both services: their load balancers reach the third replicas from now on
					long scaledOut = System.nanoTime();
					a.openGate();
					b.openGate();
					await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
						.until(() -> proxyA.servers().get("r3").isUp() && proxyB.servers().get("r3").isUp());

					// with max-connection-age: every connection is recycled within 1.1 x the age, the spread evens out
					await().atMost(Duration.ofSeconds(MAX_AGE_SECONDS + 15)).pollInterval(Duration.ofMillis(250))
						.until(() -> skewAlerts(prometheus, b.name).isEmpty()
								&& serverConnections(prometheus, b.name).values().stream().allMatch((n) -> n >= 2));
					double resolved = seconds(scaledOut);
					Map<String, Double> spreadB = serverConnections(prometheus, b.name);

					// prices-a never recovers by itself, although its third replica is reachable by now
					assertThat(skewAlerts(prometheus, a.name)).isNotEmpty()
						.allSatisfy((alert) -> assertThat(alert.state()).isEqualTo("firing"));
					Map<String, Double> spreadA = serverConnections(prometheus, a.name);
					assertThat(spreadA.get(a.instance(3))).isZero();

					// the channels that ping too often: both sides' alerts
					await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(250))
						.until(() -> firing(prometheus, "GrpcKeepaliveTooManyPingsClient", (alert) -> alert.labels()
							.get("channel").startsWith("greedy"))
								&& firing(prometheus, "GrpcKeepaliveTooManyPingsServer",
										(alert) -> a.name.equals(alert.labels().get("job"))));
					double tooManyPings = seconds(start);
					Alert clientAlert = prometheus.alerts()
						.stream()
						.filter((alert) -> "GrpcKeepaliveTooManyPingsClient".equals(alert.name()))
						.findFirst()
						.orElseThrow();
					assertThat(clientAlert.labels()).containsEntry("job", "clients");
					assertThat(clientAlert.annotations().get("description"))
						.contains("docs/troubleshooting.md#calls-fail-with-resource_exhausted-too_many_pings");

					// the mute peer's keepalive timeout, long over by now: what the keepalive timeouts panel shows
					await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
						.until(() -> !prometheus.query("grpc_keepalive_ping_timeouts_total{job=\"clients\", channel=\""
								+ SILENT + "\"} > 0").isEmpty());

					// every panel of the dashboard shows something
					Map<String, Integer> panels = dashboardQueries(prometheus, scraping);
					assertThat(panels).allSatisfy((query, count) -> assertThat(count).as(query).isPositive());

					Map<String, Double> closed = new LinkedHashMap<>();
					for (Series series : prometheus.query("sum by (job, side, reason) "
							+ "(grpc_keepalive_connections_closed_total) > 0")) {
						closed.put(series.labels().get("job") + " " + series.labels().get("side") + " "
								+ series.labels().get("reason"), series.value());
					}
					load.stop();
					System.out.printf("%s: set-up %.1fs; skew alert after the load started: pending %s, firing %s (for: %s); "
							+ "prices-b (max-connection-age %ds) resolved %.1fs after the scale-out, connections %s; "
							+ "prices-a connections %s; "
							+ "too_many_pings alerts (client and server) firing %.1fs after the start; %d dashboard queries, "
							+ "series with data %s; connections closed %s; RPCs sent %d, failed %d; total %.1fs; "
							+ "metrics settings: %s, %s%n", SCENARIO, setUp, pending, firing, FOR, MAX_AGE_SECONDS, resolved,
							spreadB, spreadA, tooManyPings, panels.size(), panels.values(), closed, load.sent.sum(),
							load.failed.sum(), seconds(start), sample, kubernetes);
				}
				finally {
					load.stop();
				}
			}
		}
	}

	/** The rules as shipped, with every {@code for:} shortened to {@value #FOR}. */
	private static String shortenFor(String rules) {
		String shortened = rules.replaceAll("(?m)^(\\s+for: )\\S+$", "$1" + FOR);
		assertThat(shortened).contains("for: " + FOR);
		return shortened;
	}

	private static List<Alert> skewAlerts(PrometheusServer prometheus, String job) throws Exception {
		return prometheus.alerts()
			.stream()
			.filter((alert) -> SKEW.equals(alert.name()) && job.equals(alert.labels().get("job")))
			.toList();
	}

	private static boolean firing(PrometheusServer prometheus, String name, Predicate<Alert> matching) throws Exception {
		return prometheus.alerts()
			.stream()
			.anyMatch((alert) -> name.equals(alert.name()) && "firing".equals(alert.state()) && matching.test(alert));
	}

	/** Server connections of each replica of a service, as Prometheus scraped them last. */
	private static Map<String, Double> serverConnections(PrometheusServer prometheus, String job) throws Exception {
		Map<String, Double> connections = new LinkedHashMap<>();
		for (Series series : prometheus
			.query("sum by (instance) (grpc_keepalive_connections_active{job=\"" + job + "\", side=\"server\"})")) {
			connections.put(series.labels().get("instance"), series.value());
		}
		return connections;
	}

	/**
	 * Runs every query of every panel of the dashboard as Grafana would, with its variables as
	 * "All" (their {@code allValue}) and {@code $__rate_interval} as {@value #RATE_INTERVAL}, as
	 * a range query from the first scrape to now, and the template variables' selectors as
	 * instant queries: query to the number of series with data, a finite value other than zero
	 * at some step for the panels' queries, any series for the selectors.
	 */
	private static Map<String, Integer> dashboardQueries(PrometheusServer prometheus, Instant from) throws Exception {
		DocumentContext dashboard = JsonPath.parse(Files.readString(DASHBOARD, StandardCharsets.UTF_8));
		List<Map<String, Object>> variables = dashboard.read("$.templating.list[?(@.type == 'query')]");
		Map<String, String> all = new LinkedHashMap<>();
		for (Map<String, Object> variable : variables) {
			all.put(String.valueOf(variable.get("name")), String.valueOf(variable.get("allValue")));
		}
		Map<String, Integer> results = new LinkedHashMap<>();
		// rows that are collapsed keep their panels inside them
		List<Map<String, Object>> panels = dashboard.read("$..panels[?(@.type != 'row')]");
		Instant to = Instant.now();
		int targets = 0;
		for (Map<String, Object> panel : panels) {
			@SuppressWarnings("unchecked")
			List<Map<String, Object>> queries = (List<Map<String, Object>>) panel.get("targets");
			assertThat(queries).as("targets of " + panel.get("title")).isNotEmpty();
			for (Map<String, Object> target : queries) {
				targets++;
				String promql = expand(String.valueOf(target.get("expr")), all);
				long withData = prometheus.queryRange(promql, from, to, STEP)
					.stream()
					.filter((series) -> series.values().stream().anyMatch((v) -> Double.isFinite(v) && v != 0))
					.count();
				results.put(panel.get("title") + " [" + target.get("refId") + "]: " + promql, (int) withData);
			}
		}
		assertThat(targets).as("targets in the dashboard").isEqualTo(
				dashboard.read("$..targets[*].expr", List.class).size()).isGreaterThanOrEqualTo(15);
		for (Map<String, Object> variable : variables) {
			@SuppressWarnings("unchecked")
			String query = String.valueOf(((Map<String, Object>) variable.get("query")).get("query"));
			// label_values(<selector>, <label>): the selector must find series
			String selector = expand(query.replaceAll("^label_values\\((.*), *\\w+\\)$", "$1"), all);
			results.put("variable " + variable.get("name") + ": " + selector, prometheus.query(selector).size());
		}
		return results;
	}

	/** A query with Grafana's variables replaced as with "All" selected. */
	private static String expand(String query, Map<String, String> all) {
		String promql = query.replace("$__rate_interval", RATE_INTERVAL);
		for (Map.Entry<String, String> variable : all.entrySet()) {
			promql = promql.replace("${" + variable.getKey() + "}", variable.getValue())
				.replace("$" + variable.getKey(), variable.getValue());
		}
		assertThat(promql).as(query).doesNotContain("$");
		return promql;
	}

	private static double seconds(long since) {
		return Math.round((System.nanoTime() - since) / 1e8) / 10.0;
	}

	/**
	 * The clients' application: channels {@code a1..} to service a's proxy, {@code b1..} to b's,
	 * two channels {@code greedy1}, {@code greedy2} to a's that ping every 10s, and
	 * {@value #SILENT} to a peer that never answers its keepalive PING.
	 */
	private static ConfigurableApplicationContext clients(String targetA, String targetB, String mute,
			List<String> metrics) {
		List<String> properties = new ArrayList<>(List.of("grpc.keepalive.server.enabled=false",
				"server.address=127.0.0.1"));
		properties.addAll(metrics);
		properties.add("grpc.keepalive.client.channels." + SILENT + ".target=" + mute);
		properties.add("grpc.keepalive.client.channels." + SILENT + ".time=10s");
		properties.add("grpc.keepalive.client.channels." + SILENT + ".timeout=1s");
		properties.add("grpc.keepalive.client.channels." + SILENT + ".without-calls=true");
		for (int i = 1; i <= CHANNELS; i++) {
			properties.add("grpc.keepalive.client.channels.a" + i + ".target=" + targetA);
			properties.add("grpc.keepalive.client.channels.b" + i + ".target=" + targetB);
		}
		for (String greedy : List.of("greedy1", "greedy2")) {
			properties.add("grpc.keepalive.client.channels." + greedy + ".target=" + targetA);
			properties.add("grpc.keepalive.client.channels." + greedy + ".time=10s");
			properties.add("grpc.keepalive.client.channels." + greedy + ".without-calls=true");
		}
		return TestApps.observed(properties.toArray(String[]::new));
	}

	/**
	 * Three replicas of one service behind one HAProxy; the third's server address there is a
	 * gate, a TCP proxy to the replica that {@link #openGate} opens: until then HAProxy's health
	 * check finds the third down and sends it nothing.
	 */
	private static final class Service implements AutoCloseable {

		private final String name;

		private final int[] grpcPorts;

		private final int gatePort;

		private final List<String> properties;

		private final List<ConfigurableApplicationContext> replicas = new ArrayList<>();

		private @Nullable SniffingTcpProxy gate;

		Service(String name, int grpc1, int grpc2, int grpc3, int gatePort, List<String> properties) {
			this.name = name;
			this.grpcPorts = new int[] { grpc1, grpc2, grpc3 };
			this.gatePort = gatePort;
			this.properties = List.copyOf(properties);
		}

		HaProxy proxy() throws Exception {
			return HaProxy.tcp(PROXY_TIMEOUT, PROXY_TIMEOUT)
				.server("r1", this.grpcPorts[0], HEALTH_CHECK)
				.server("r2", this.grpcPorts[1], HEALTH_CHECK)
				.server("r3", this.gatePort, HEALTH_CHECK)
				.start();
		}

		void startReplicas() {
			for (int replica = 0; replica < 3; replica++) {
				List<String> all = new ArrayList<>(List.of("server.address=127.0.0.1", "server.port=0",
						"grpc.keepalive.server.address=127.0.0.1", "grpc.keepalive.server.port=" + this.grpcPorts[replica]));
				all.addAll(this.properties);
				this.replicas.add(TestApps.observed(all.toArray(String[]::new)));
			}
		}

		/** The scale-out: HAProxy's next health checks find the third replica, and it gets its share of new connections. */
		void openGate() throws IOException {
			this.gate = new SniffingTcpProxy(this.gatePort, this.grpcPorts[2]);
		}

		/** The actuator ports of the three replicas. */
		int[] httpPorts() {
			return this.replicas.stream().mapToInt(TestApps::httpPort).toArray();
		}

		/** The Prometheus {@code instance} of replica 1, 2 or 3. */
		String instance(int replica) {
			return "127.0.0.1:" + httpPorts()[replica - 1];
		}

		@Override
		public void close() throws IOException {
			this.replicas.forEach(ConfigurableApplicationContext::close);
			if (this.gate != null) {
				this.gate.close();
			}
		}

	}

	/** One RPC per channel every {@value #RPC_PERIOD_MILLIS}ms, so that a channel reconnects after a GOAWAY. */
	private static final class Load {

		private final List<ManagedChannel> channels = new ArrayList<>();

		private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "fleet-load");
			thread.setDaemon(true);
			return thread;
		});

		private final LongAdder sent = new LongAdder();

		private final LongAdder failed = new LongAdder();

		Load(ConfigurableApplicationContext clients) {
			GrpcChannels channels = clients.getBean(GrpcChannels.class);
			for (int i = 1; i <= CHANNELS; i++) {
				this.channels.add(channels.get("a" + i));
				this.channels.add(channels.get("b" + i));
			}
		}

		void start() {
			for (int i = 0; i < this.channels.size(); i++) {
				TestServiceGrpc.TestServiceStub stub = TestServiceGrpc.newStub(this.channels.get(i));
				this.scheduler.scheduleAtFixedRate(() -> send(stub), i * RPC_PERIOD_MILLIS / this.channels.size(),
						RPC_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
			}
		}

		private void send(TestServiceGrpc.TestServiceStub stub) {
			this.sent.increment();
			stub.withDeadlineAfter(5, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("load").build(), new StreamObserver<EchoReply>() {

					@Override
					public void onNext(EchoReply reply) {
					}

					@Override
					public void onError(Throwable error) {
						Load.this.failed.increment();
					}

					@Override
					public void onCompleted() {
					}

				});
		}

		void stop() throws InterruptedException {
			this.scheduler.shutdownNow();
			this.scheduler.awaitTermination(5, TimeUnit.SECONDS);
		}

	}

}
