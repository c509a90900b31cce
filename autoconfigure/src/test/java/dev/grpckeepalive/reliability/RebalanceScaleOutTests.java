package dev.grpckeepalive.reliability;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.ConnectivityState;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scale-out with an operator's rebalance, behind an L4 load balancer: HAProxy balances TCP
 * connections {@code leastconn} over server replicas, and {@value #CHANNELS} pick_first
 * channels call continuously, each over its one connection. Two replicas share the
 * connections; a third starts, and gets none (nothing makes a connection move). Then the
 * operator's procedure (docs/tuning.md): one {@code POST /actuator/grpckeepalive/rebalance}
 * on each old replica, {@code {"shed": 1/3, "over": "5s"}} (with N old replicas and one new,
 * each old one sheds 1/(N+1)). Each drained client reconnects at once, and leastconn sends it
 * to the replica with the fewest connections, the new one.
 *
 * <p>Asserted: the new replica holds its third of the connections (within ±10 % of all) within
 * the period plus a slack for a loaded machine, each replica then serves a third of the calls
 * (±10 points), every drained connection closed {@code drained}, and not one call failed.
 *
 * <p>The third replica is in HAProxy's configuration from the start with a 500ms health check:
 * DOWN until it listens, as a replica an orchestrator starts would be.
 */
@Tag("reliability")
// a load scenario: not at the same time as the others
@ResourceLock("reliability-load")
class RebalanceScaleOutTests {

	private static final String SCENARIO = "Scenario 3b (scale-out behind an L4 load balancer, rebalanced)";

	private static final int CHANNELS = 30;

	/** Each channel calls every 200ms: 150 calls a second, modest for two loaded cores. */
	private static final long CALL_PERIOD_MILLIS = 200;

	private static final Duration OVER = Duration.ofSeconds(5);

	/** Beyond the period: the last drain is due one interval before its end; reconnecting on a loaded machine takes a moment. */
	private static final Duration SLACK = Duration.ofSeconds(5);

	private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(60);

	private static final String HEALTH_CHECK = "check inter 500ms";

	/** Calls counted for the shares once the connections have moved. */
	private static final int MEASURED_CALLS = 600;

	private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	@Test
	void oneRebalanceOnEachOldReplicaGivesTheNewOneItsShareWithoutAFailedCall() throws Exception {
		HaProxy.require(SCENARIO);
		int thirdPort = FreePorts.take();
		Map<String, ConfigurableApplicationContext> replicas = new LinkedHashMap<>();
		try {
			replicas.put("r1", replica(0));
			replicas.put("r2", replica(0));
			try (HaProxy proxy = HaProxy.tcp(PROXY_TIMEOUT, PROXY_TIMEOUT)
				.balance("leastconn")
				.server("r1", TestApps.port(replicas.get("r1")), HEALTH_CHECK)
				.server("r2", TestApps.port(replicas.get("r2")), HEALTH_CHECK)
				.server("r3", thirdPort, HEALTH_CHECK)
				.start(); ConfigurableApplicationContext client = BalancedClients.start(proxy.target(), CHANNELS)) {
				await().atMost(Duration.ofSeconds(20))
					.pollInterval(Duration.ofMillis(200))
					.until(() -> proxy.upStates().equals(Map.of("r1", true, "r2", true, "r3", false)));
				SteadyUnaryLoad load = BalancedClients.load(client, CHANNELS, "rebalance-load",
						Duration.ofMillis(CALL_PERIOD_MILLIS), Duration.ofSeconds(10));
				try {
					load.start();
					await().atMost(Duration.ofSeconds(20))
						.until(() -> load.channels().stream()
							.allMatch((channel) -> channel.getState(false) == ConnectivityState.READY)
								&& total(connections(replicas)) == CHANNELS);
					Map<String, Integer> before = connections(replicas);

					// the new replica needs no endpoint: a plain server starts faster
					replicas.put("r3", TestApps.server("address=127.0.0.1", "port=" + thirdPort));
					await().atMost(Duration.ofSeconds(10))
						.pollInterval(Duration.ofMillis(100))
						.until(() -> proxy.upStates().get("r3"));
					assertThat(connections(replicas).get("r3")).as("connections of the new replica before the rebalance")
						.isZero();

					long start = System.nanoTime();
					List<String> answers = new ArrayList<>();
					for (String old : List.of("r1", "r2")) {
						answers.add(rebalance(replicas.get(old), "{\"shed\": " + (1.0 / 3) + ", \"over\": \""
								+ OVER.toSeconds() + "s\"}"));
					}
					int share = CHANNELS / 3;
					int tolerance = CHANNELS / 10;
					await().atMost(OVER.plus(SLACK))
						.pollInterval(Duration.ofMillis(100))
						.until(() -> connections(replicas).values()
							.stream()
							.allMatch((count) -> Math.abs(count - share) <= tolerance));
					long balancedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
					Map<String, Integer> after = connections(replicas);

					Map<String, Integer> callsFrom = callsStarted(replicas);
					await().atMost(Duration.ofSeconds(30))
						.until(() -> total(callsStarted(replicas)) - total(callsFrom) >= MEASURED_CALLS);
					Map<String, Double> shares = shares(callsFrom, callsStarted(replicas));
					Map<String, Integer> settled = connections(replicas);
					// every drained connection closes once its calls are done: soon, calls are short
					await().atMost(Duration.ofSeconds(20)).until(() -> drained(replicas) >= 2 * (CHANNELS / 2) / 3);
					load.stop();

					System.out.printf("%s: connections before %s, within +-10%% %d ms after the first rebalance call %s "
							+ "(period %s), after the measured calls %s; call shares %% %s; calls sent %d, OK %d, failed %s, "
							+ "not sent (in-flight bound) %d; closed drained %d; answers %s%n", SCENARIO, before,
							balancedMillis, after, OVER, settled, shares,
							load.sent(), load.ok(), load.failed(), load.skipped(), drained(replicas), answers);
					assertThat(load.failed()).as("failed calls").isEmpty();
					assertThat(shares).allSatisfy((replica, callShare) -> assertThat(callShare).as(replica + ", %")
						.isBetween(100.0 / 3 - 10, 100.0 / 3 + 10));
				}
				finally {
					load.stop();
				}
			}
		}
		finally {
			replicas.values().forEach(ConfigurableApplicationContext::close);
		}
	}

	/** A replica with the endpoint's write operations granted, on loopback. */
	private static ConfigurableApplicationContext replica(int port) {
		return TestApps.observed("grpc.keepalive.server.address=127.0.0.1", "grpc.keepalive.server.port=" + port,
				"management.endpoint.grpckeepalive.access=unrestricted");
	}

	private static String rebalance(ConfigurableApplicationContext replica, String body) throws Exception {
		HttpRequest request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + TestApps.httpPort(replica) + "/actuator/grpckeepalive/rebalance"))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return response.body();
	}

	/**
	 * Each replica's client connections that are not closing: open, not draining, and with
	 * calls (HAProxy's health checks open connections that carry none).
	 */
	private static Map<String, Integer> connections(Map<String, ConfigurableApplicationContext> replicas) {
		Map<String, Integer> counts = new LinkedHashMap<>();
		for (String name : List.of("r1", "r2", "r3")) {
			ConfigurableApplicationContext replica = replicas.get(name);
			int count = 0;
			if (replica != null) {
				for (ConnectionSnapshot connection : tracker(replica).openConnections()) {
					if (connection.state() != ConnectionState.DRAINING && connection.totalCalls() > 0) {
						count++;
					}
				}
			}
			counts.put(name, count);
		}
		return counts;
	}

	private static long drained(Map<String, ConfigurableApplicationContext> replicas) {
		return replicas.values().stream().mapToLong((replica) -> tracker(replica).closedConnections(CloseReason.DRAINED)).sum();
	}

	private static ConnectionTrackerView tracker(ConfigurableApplicationContext replica) {
		return replica.getBean(KeepAliveGrpcServer.class).getConnections();
	}

	private static Map<String, Integer> callsStarted(Map<String, ConfigurableApplicationContext> replicas) {
		Map<String, Integer> calls = new LinkedHashMap<>();
		for (String name : List.of("r1", "r2", "r3")) {
			ConfigurableApplicationContext replica = replicas.get(name);
			calls.put(name, (replica != null) ? TestApps.service(replica).callsStarted.get() : 0);
		}
		return calls;
	}

	private static int total(Map<String, Integer> counts) {
		return counts.values().stream().mapToInt(Integer::intValue).sum();
	}

	private static Map<String, Double> shares(Map<String, Integer> from, Map<String, Integer> to) {
		int total = total(to) - total(from);
		Map<String, Double> shares = new LinkedHashMap<>();
		to.forEach((name, calls) -> shares.put(name,
				Math.round(1000.0 * (calls - from.get(name)) / Math.max(1, total)) / 10.0));
		return shares;
	}

}
