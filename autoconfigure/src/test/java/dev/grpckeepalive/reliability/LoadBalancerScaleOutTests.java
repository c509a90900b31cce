package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.grpc.ConnectivityState;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 3, scale-out behind an L4 load balancer: HAProxy balances TCP connections
 * round-robin over server replicas, and clients with pick_first send every RPC of a channel
 * over its one connection. Two replicas serve a steady unary load; a third starts. Without
 * {@code max-connection-age} no connection ever moves, so the new replica gets nothing;
 * with an age of 5s every channel reconnects within one age and HAProxy spreads the new
 * connections over all three.
 *
 * <p>The third replica is in HAProxy's configuration from the start with a 500ms health
 * check: it is DOWN until it listens, as a replica that an orchestrator starts would be.
 * The two variants use their own replicas and proxies, and run at the same time.
 */
@Tag("reliability")
// The two load scenarios would starve each other on a small machine: one at a time.
@ResourceLock("reliability-load")
class LoadBalancerScaleOutTests {

	private static final String SCENARIO = "Scenario 3 (scale-out behind an L4 load balancer)";

	private static final Duration MAX_AGE = Duration.ofSeconds(5);

	/** Channels of one client application, each its own pick_first connection through the proxy. */
	private static final int CHANNELS = 12;

	/** Each channel sends an RPC every 100ms: 120 RPC/s per variant, modest for two cores. */
	private static final long RPC_PERIOD_MILLIS = 100;

	private static final String HEALTH_CHECK = "check inter 500ms";

	/** Idle timeouts far above anything the steady load leaves idle. */
	private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(60);

	@Test
	void withoutMaxConnectionAgeTheNewReplicaGetsAlmostNothing() throws Exception {
		Shares shares = scaleOut("without max-connection-age");

		assertThat(shares.failed()).as("failed RPCs").isEmpty();
		assertThat(shares.afterFirstAge().get("r3")).as("share of the new replica, %").isLessThan(10.0);
		assertThat(shares.all().get("r3")).as("share of the new replica over three ages, %").isLessThan(10.0);
	}

	@Test
	void withMaxConnectionAgeEachReplicaServesAThirdWithinThreeAges() throws Exception {
		Shares shares = scaleOut("with max-connection-age 5s, grace 5s", "max-connection-age=5s",
				"max-connection-age-grace=5s");

		assertThat(shares.failed()).as("failed RPCs").isEmpty();
		// by the second and third ages after the new replica came up, every channel has reconnected at least once
		assertThat(shares.afterFirstAge()).allSatisfy((replica, share) -> assertThat(share).as(replica + ", %")
			.isBetween(100.0 / 3 - 10, 100.0 / 3 + 10));
	}

	/**
	 * Runs the load over two replicas, starts a third, and measures for three ages from the
	 * moment HAProxy sees it UP.
	 */
	private Shares scaleOut(String variant, String... replicaProperties) throws Exception {
		HaProxy.require(SCENARIO);
		int thirdPort = FreePorts.take();
		try (Replicas replicas = new Replicas(replicaProperties)) {
			replicas.start("r1", 0);
			replicas.start("r2", 0);
			try (HaProxy proxy = HaProxy.tcp(PROXY_TIMEOUT, PROXY_TIMEOUT)
				.server("r1", replicas.port("r1"), HEALTH_CHECK)
				.server("r2", replicas.port("r2"), HEALTH_CHECK)
				.server("r3", thirdPort, HEALTH_CHECK)
				.start(); ConfigurableApplicationContext client = BalancedClients.start(proxy.target(), CHANNELS)) {
				await().atMost(Duration.ofSeconds(20))
					.pollInterval(Duration.ofMillis(200))
					.until(() -> proxy.upStates().equals(Map.of("r1", true, "r2", true, "r3", false)));
				SteadyUnaryLoad load = BalancedClients.load(client, CHANNELS, "scale-out-load",
						Duration.ofMillis(RPC_PERIOD_MILLIS), Duration.ofSeconds(5));
				try {
					load.start();
					// every channel connected, and the load steady for a while, before scaling out
					await().atMost(Duration.ofSeconds(20))
						.until(() -> load.channels().stream()
							.allMatch((channel) -> channel.getState(false) == ConnectivityState.READY));
					Thread.sleep(3_000);

					replicas.start("r3", thirdPort);
					await().atMost(Duration.ofSeconds(10))
						.pollInterval(Duration.ofMillis(100))
						.until(() -> proxy.upStates().get("r3"));
					List<Map<String, Integer>> snapshots = new ArrayList<>();
					snapshots.add(replicas.callsStarted());
					for (int age = 1; age <= 3; age++) {
						Thread.sleep(MAX_AGE.toMillis());
						snapshots.add(replicas.callsStarted());
					}
					load.stop();
					Shares shares = new Shares(snapshots, load.failed());
					// a tick that finds the in-flight bound reached sends nothing: a stall (seen only when the
					// machine was saturated), reported but not a failed RPC
					System.out.printf("%s, %s: RPCs sent %d, OK %d, failed %s, ticks not sent (in-flight bound) %d; "
							+ "shares %% by age after r3 came up %s, ages 2-3 %s, ages 1-3 %s; HAProxy sessions per "
							+ "replica %s; replica connections %s%n",
							SCENARIO, variant, load.sent(), load.ok(), load.failed(), load.skipped(),
							shares.byAge(),
							shares.afterFirstAge(), shares.all(), sessions(proxy), replicas.connections());
					return shares;
				}
				finally {
					load.stop();
				}
			}
		}
	}

	private static Map<String, Long> sessions(HaProxy proxy) throws Exception {
		Map<String, Long> sessions = new LinkedHashMap<>();
		proxy.servers().forEach((name, stats) -> sessions.put(name, stats.totalSessions()));
		return sessions;
	}

	/** The replicas started so far, closed together. */
	private static final class Replicas implements AutoCloseable {

		private final String[] properties;

		private final Map<String, ConfigurableApplicationContext> started = new LinkedHashMap<>();

		Replicas(String[] properties) {
			this.properties = properties;
		}

		void start(String name, int port) {
			List<String> all = new ArrayList<>(List.of("address=127.0.0.1", "port=" + port));
			all.addAll(List.of(this.properties));
			this.started.put(name, TestApps.server(all.toArray(String[]::new)));
		}

		int port(String name) {
			return TestApps.port(this.started.get(name));
		}

		/** Calls each replica has started so far; 0 for one not started yet. */
		Map<String, Integer> callsStarted() {
			Map<String, Integer> calls = new LinkedHashMap<>();
			for (String name : List.of("r1", "r2", "r3")) {
				ConfigurableApplicationContext replica = this.started.get(name);
				calls.put(name, (replica != null) ? TestApps.service(replica).callsStarted.get() : 0);
			}
			return calls;
		}

		/** Each replica's connections: opened, and closed by reason (HAProxy's health checks included). */
		Map<String, String> connections() {
			Map<String, String> connections = new LinkedHashMap<>();
			this.started.forEach((name, replica) -> {
				ConnectionTrackerView tracker = replica.getBean(KeepAliveGrpcServer.class).getConnections();
				Map<String, Long> closed = new LinkedHashMap<>();
				for (CloseReason reason : CloseReason.values()) {
					if (tracker.closedConnections(reason) > 0) {
						closed.put(reason.tag(), tracker.closedConnections(reason));
					}
				}
				connections.put(name, "opened " + tracker.openedConnections() + ", closed " + closed);
			});
			return connections;
		}

		@Override
		public void close() {
			this.started.values().forEach(ConfigurableApplicationContext::close);
		}

	}

	/**
	 * Calls per replica at the moment the third came up and after each of three ages, as
	 * shares in percent of the calls between two snapshots.
	 */
	private record Shares(List<Map<String, Integer>> snapshots, Map<String, Long> failed) {

		/** Shares over the second and third ages, once every channel has had one age to reconnect. */
		Map<String, Double> afterFirstAge() {
			return shares(1, 3);
		}

		/** Shares over all three ages. */
		Map<String, Double> all() {
			return shares(0, 3);
		}

		List<Map<String, Double>> byAge() {
			return List.of(shares(0, 1), shares(1, 2), shares(2, 3));
		}

		private Map<String, Double> shares(int from, int to) {
			Map<String, Integer> start = this.snapshots.get(from);
			Map<String, Integer> end = this.snapshots.get(to);
			int total = 0;
			for (String replica : end.keySet()) {
				total += end.get(replica) - start.get(replica);
			}
			Map<String, Double> shares = new LinkedHashMap<>();
			for (String replica : end.keySet()) {
				double share = 100.0 * (end.get(replica) - start.get(replica)) / Math.max(1, total);
				shares.put(replica, Math.round(share * 10) / 10.0);
			}
			return shares;
		}

	}

}
