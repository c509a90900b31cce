package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.test.ChildJvm;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finding {@code idle_connections_dropped} against a middlebox that drops silently (issue 12):
 * a router namespace between the client's and the server's whose conntrack forgets an
 * established TCP connection after 5s without a packet and then drops the connection's packets
 * ({@link RoutedLink}). The client's channel pings after 10s of silence (keepalive time 10s,
 * timeout 2s, without calls). A silence of 3s between two calls survives; then the connection
 * idles, conntrack forgets it at 5s, the keepalive PING at 10s vanishes, and 2s later the
 * channel closes the connection as {@code keepalive_timeout}: no FIN, no RST, nothing reached
 * either side (the server still holds the connection open). One such death could be a dead
 * server: the client calls again on a new connection, which dies the same way, and from the two
 * keepalive timeouts the client's advisor brackets the router's timeout between the silence
 * that survived and the one before the lost PING.
 */
@Tag("reliability")
class SilentMiddleboxTests {

	private static final String SCENARIO = "Advisor: idle connections dropped silently (conntrack, 5s)";

	private static final Duration CONNTRACK_TIMEOUT = Duration.ofSeconds(5);

	private static final Duration SURVIVING_SILENCE = Duration.ofSeconds(3);

	/** The keepalive timeout comes about 12 s after the last call (PING at 10 s, timeout 2 s); room for a loaded machine. */
	private static final Duration KEEPALIVE_TIMEOUT_WITHIN = Duration.ofSeconds(45);

	private static final Duration PROCESS_START = Duration.ofSeconds(90);

	/**
	 * Only a bound on a hang: the server's first request initializes its web stack in a JVM without
	 * a JIT's second tier, which took more than 10 s on a loaded machine.
	 */
	private static final Duration ENDPOINT_WITHIN = Duration.ofSeconds(30);

	/** The advisor hears of a close on the thread that closed it, just after it was counted: a bound on a starved JVM. */
	private static final Duration ADVISOR_WITHIN = Duration.ofSeconds(10);

	@Test
	void theClientBracketsTheConntrackTimeoutFromAKeepAliveTimeoutAfterTheSilence() throws Exception {
		try (RoutedLink link = RoutedLink.create(SCENARIO, CONNTRACK_TIMEOUT);
				ChildJvm server = ChildJvm.start("conntrack-server", link.inServer(), PeerProcess.class, "server",
						"9090", "grpc.keepalive.server.address=" + link.serverAddress(),
						"grpc.keepalive.server.permit-time=10s", "grpc.keepalive.server.permit-without-calls=true");
				ChildJvm client = ChildJvm.start("conntrack-client", link.inClient(), PeerProcess.class, "client",
						link.serverAddress() + ":9090", "grpc.keepalive.client.channels.test.time=10s",
						"grpc.keepalive.client.channels.test.timeout=2s",
						"grpc.keepalive.client.channels.test.without-calls=true")) {
			server.await("ready", PROCESS_START);
			client.await("ready", PROCESS_START);
			long startedAt = System.nanoTime();
			client.send("unary u1 20000");
			assertThat(client.await("unary", "u1", Duration.ofSeconds(25)).<String>read("$.code")).isEqualTo("OK");
			// shorter than the router's timeout: survives
			Thread.sleep(SURVIVING_SILENCE.toMillis());
			client.send("unary u2 5000");
			assertThat(client.await("unary", "u2", Duration.ofSeconds(10)).<String>read("$.code")).isEqualTo("OK");
			long quietFrom = System.nanoTime();

			// conntrack forgets the connection at 5s, the PING at 10s vanishes, the timeout comes 2s later
			DocumentContext clientView = awaitKeepAliveTimeouts(client, 1, KEEPALIVE_TIMEOUT_WITHIN);
			long closedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - quietFrom);
			String id = clientView.read("$.body.channels.test.connections.recentlyClosed[0].id");
			DocumentContext connection = endpoint(client, "/connections/" + id);

			// a new connection, the same silence, the same death
			client.send("unary u3 20000");
			assertThat(client.await("unary", "u3", Duration.ofSeconds(25)).<String>read("$.code")).isEqualTo("OK");
			// read after a whole call on the new connection, long after the advisor heard of the first death, and
			// at least 12 s before the second can come: the finding's occurrences below prove it again
			assertThat(findings(client)).as("one death could be a dead peer").isEmpty();
			clientView = awaitKeepAliveTimeouts(client, 2, KEEPALIVE_TIMEOUT_WITHIN);
			// the tracker counts a close before it tells its listeners, the advisor among them: the finding follows
			List<Map<String, Object>> findings = awaitFindings(client, ADVISOR_WITHIN);
			DocumentContext advice = endpoint(client, "/advice");
			DocumentContext serverView = endpoint(server, "");
			long dropped = link.droppedPackets();
			System.out.printf("%s: the client closed its connection %d ms after the last call (%s), the router "
					+ "dropped %d packet(s), the server still has %d connection(s) open (closed: %s); whole scenario "
					+ "%d ms; connection: %s; advice: %s%n", SCENARIO, closedAfter,
					connection.read("$.body.closeReason"), dropped,
					serverView.<Integer>read("$.body.server.connections.active"),
					serverView.read("$.body.server.connections.closed").toString(),
					TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt),
					connection.read("$.body.silenceBeforeClose").toString(), advice.read("$.body").toString());

			// the death: the channel's own keepalive, no FIN or RST from the path or the server
			assertThat(connection.<String>read("$.body.closeReason")).isEqualTo("keepalive_timeout");
			assertThat(clientView.<Integer>read("$.body.channels.test.connections.closed.peer_closed")).isZero();
			assertThat(clientView.<Integer>read("$.body.channels.test.connections.closed.error")).isZero();
			assertThat(connection.<Boolean>read("$.body.silenceBeforeClose.afterWrite")).isTrue();
			assertThat(dropped).isPositive();
			// nothing reached the server either: it still holds both connections it served the calls on
			assertThat(serverView.<Integer>read("$.body.server.connections.active")).isEqualTo(2);
			assertThat(serverView.<Map<String, Integer>>read("$.body.server.connections.closed").values())
				.allMatch((count) -> count == 0);

			assertThat(findings).hasSize(1);
			Map<String, Object> finding = findings.get(0);
			assertThat(finding).containsEntry("side", "client").containsEntry("channel", "test");
			// reported once, at the second death: the first alone reported nothing
			assertThat(((Number) finding.get("occurrences")).longValue()).isEqualTo(1);
			@SuppressWarnings("unchecked")
			Map<String, Object> evidence = (Map<String, Object>) finding.get("evidence");
			assertThat(evidence).containsEntry("deaths", 2)
				.containsEntry("diedDuringSilence", 0)
				.containsEntry("diedRightAfterWritingAfterSilence", 2)
				.containsEntry("betweenCalls", 2)
				.containsEntry("closeReasons", Map.of("keepalive_timeout", 2))
				.containsEntry("keepaliveTime", "10s");
			long survived = ((Number) evidence.get("longestSurvivedSilenceMillis")).longValue();
			long killed = ((Number) ((Map<?, ?>) evidence.get("killingSilenceMillis")).get("min")).longValue();
			// the silence before the lost PING is the keepalive time
			assertThat(survived).isBetween(SURVIVING_SILENCE.toMillis() - 100, CONNTRACK_TIMEOUT.toMillis() - 1);
			assertThat(killed).isBetween(9_500L, 11_500L);
			Map<?, ?> bracket = (Map<?, ?>) evidence.get("idleTimeoutBracket");
			assertThat(bracket.get("longerThan")).isEqualTo(DurationFormat.format(Duration.ofMillis(survived)));
			long atMost = Math.round(killed * 1.02);
			assertThat(bracket.get("atMost")).isEqualTo(DurationFormat.format(Duration.ofMillis(atMost)));
			// the router's timeout lies in the bracket
			assertThat(CONNTRACK_TIMEOUT.toMillis()).isGreaterThan(survived).isLessThanOrEqualTo(atMost);
			Map<?, ?> recommendation = (Map<?, ?>) finding.get("recommendation");
			// 80% of the longest silence that survived is under grpc-java's 10s minimum: the router must change
			assertThat(recommendation.get("property")).isEqualTo("idle timeout of the middlebox on the path");
			assertThat(recommendation.get("suggested")).isEqualTo("12s500ms");
			assertThat(recommendation.get("lowerBound")).isEqualTo(true);
			assertThat((String) recommendation.get("text")).contains("grpc-java raises a keepalive time under 10s");
		}
	}

	private static DocumentContext awaitKeepAliveTimeouts(ChildJvm client, int count, Duration timeout)
			throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (System.nanoTime() < deadline) {
			DocumentContext view = endpoint(client, "");
			if (view.<Integer>read("$.body.channels.test.connections.closed.keepalive_timeout") >= count) {
				return view;
			}
			Thread.sleep(250);
		}
		throw new AssertionError("the client reported fewer than " + count + " keepalive timeouts within " + timeout
				+ "; its connections: " + endpoint(client, "").read("$.body.channels.test.connections").toString());
	}

	private static List<Map<String, Object>> findings(ChildJvm client) throws Exception {
		return endpoint(client, "/advice").read("$.body[?(@.type == 'idle_connections_dropped')]");
	}

	private static List<Map<String, Object>> awaitFindings(ChildJvm client, Duration timeout) throws Exception {
		long deadline = System.nanoTime() + timeout.toNanos();
		List<Map<String, Object>> findings = findings(client);
		while (findings.isEmpty() && System.nanoTime() < deadline) {
			Thread.sleep(250);
			findings = findings(client);
		}
		return findings;
	}

	private static DocumentContext endpoint(ChildJvm peer, String path) throws Exception {
		peer.send("endpoint " + path);
		return peer.await("endpoint", ENDPOINT_WITHIN);
	}

}
