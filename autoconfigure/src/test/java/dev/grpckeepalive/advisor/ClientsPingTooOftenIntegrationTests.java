package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.InteropPeer;
import dev.grpckeepalive.test.NodePeer;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Finding {@code clients_ping_too_often} from a real grpc-java client (keepalive 10s without
 * calls) against a server with gRPC's defaults (permit-time 5m, permit-without-calls false):
 * nothing at its first strike (the BDP PING that answers the call's DATA, which the server's
 * next DATA would forgive), a finding once a connection reaches grpc-java's two strikes
 * (the keepalive PING 10s later), and after grpc-java's GOAWAY at the third, a permit-time
 * that fits the measured interval. And a grpc-js client pinging every second with a call in
 * flight, then a grpc-java client: one finding per user agent, the grpc-js one critical
 * after its GOAWAY and told to slow down, the grpc-java one a warning at two strikes.
 */
class ClientsPingTooOftenIntegrationTests {

	@Test
	void aGrpcJavaClientPingingEvery10sWithoutCallsIsDiagnosedFromTwoStrikesAndFittedAfterTheGoAway()
			throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed();
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + TestApps.port(server),
						"time=10s", "without-calls=true")) {
			// one call; then the connection idles
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hello").build());
			await().atMost(Duration.ofSeconds(5))
				.until(() -> Http.json(server, "/actuator/grpckeepalive").read("$.server.pings.received", Integer.class) >= 1);
			assertThat(Http.json(server, "/actuator/grpckeepalive/advice")
				.read("$[?(@.type == 'clients_ping_too_often')]", List.class)).as("one strike is no finding").isEmpty();

			DocumentContext advice = await().atMost(Duration.ofSeconds(40))
				.pollInterval(Duration.ofMillis(500))
				.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
						(json) -> json.read("$[?(@.type == 'clients_ping_too_often' "
								+ "&& @.evidence.connectionsClosedTooManyPings >= 1)]", List.class).size() == 1);
			System.out.println("advice: " + advice.jsonString());

			Map<String, Object> finding = castMap(
					(Map<?, ?>) advice.read("$[?(@.type == 'clients_ping_too_often')]", List.class).get(0));
			assertThat(finding).containsEntry("severity", "critical")
				.containsEntry("side", "server")
				.containsEntry("channel", "server");
			assertThat((String) finding.get("subject")).startsWith("grpc-java-netty/");
			Map<String, Object> evidence = castMap((Map<?, ?>) finding.get("evidence"));
			assertThat((String) evidence.get("userAgent")).startsWith("grpc-java-netty/");
			assertThat(evidence).containsEntry("strikes", 3)
				.containsEntry("strikesByBdpPings", 1)
				.containsEntry("intervalMeasured", true)
				.containsEntry("permitTime", "5m")
				.containsEntry("permitWithoutCalls", false);
			long median = ((Number) castMap((Map<?, ?>) evidence.get("pingIntervalMillis")).get("median")).longValue();
			assertThat(median).isBetween(9_500L, 11_500L);
			Map<String, Object> recommendation = castMap((Map<?, ?>) finding.get("recommendation"));
			assertThat(recommendation).containsEntry("property", "grpc.keepalive.server.permit-time")
				.containsEntry("current", "5m")
				.containsEntry("suggested", "9s")
				.doesNotContainKey("lowerBound");
			assertThat(advice.read("$[0].recommendation.alsoSet[0].property", String.class))
				.isEqualTo("grpc.keepalive.server.permit-without-calls");
			assertThat(advice.read("$[0].recommendation.alsoSet[0].suggested", String.class)).isEqualTo("true");

			DocumentContext summary = Http.json(server, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.connections.closed.too_many_pings", Integer.class)).isEqualTo(1);
			assertThat(summary.read("$.advice.findings.critical", Integer.class)).isGreaterThanOrEqualTo(1);
			assertThat(Http.json(server, "/actuator/metrics/grpc.keepalive.advice.findings?tag=type:clients_ping_too_often&tag=severity:critical")
				.read("$.measurements[0].value", Double.class)).isEqualTo(1.0);
		}
	}

	@Test
	void aGrpcJsClientIsGroupedUnderItsOwnUserAgentApartFromGrpcJava() throws Exception {
		// the build installed grpc-js before the tests (interop/prepare-peers): skip here, before any timing starts
		InteropPeer.requireNode();
		DocumentContext advice;
		try (ConfigurableApplicationContext server = TestApps.observed()) {
			// grpc-js first, alone: keepalive every 1s, without-calls permitted, one idle stream in flight
			try (NodePeer jsClient = NodePeer.start("client", "127.0.0.1:" + TestApps.port(server), "1000", "1",
					"20000")) {
				DocumentContext outcome = jsClient.nextEvent(Duration.ofSeconds(20).plus(InteropPeer.START_ALLOWANCE));
				assertThat(outcome.read("$.code", String.class)).as(outcome.jsonString())
					.isEqualTo("RESOURCE_EXHAUSTED");
			}
			// then grpc-java: its BDP PING after the response strikes at once, its keepalive PING 10s later:
			// two strikes, a finding; its third strike, 10s after that, would draw GOAWAY. The client closes as
			// soon as the finding is seen, so that the finding stays a warning however slowly the machine runs
			// up to it (the advisor keeps the strikes of closed connections).
			try (ConfigurableApplicationContext javaClient = TestApps.client("127.0.0.1:" + TestApps.port(server),
					"time=10s", "without-calls=true")) {
				TestApps.blockingStub(javaClient).echo(EchoRequest.newBuilder().setText("hello").build());
				advice = await().atMost(Duration.ofSeconds(40))
					.pollInterval(Duration.ofMillis(500))
					.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
							(json) -> json.read("$[?(@.type == 'clients_ping_too_often')]", List.class).size() == 2);
			}
			System.out.println("advice: " + advice.jsonString());
			assertThat(Http.json(server, "/actuator/grpckeepalive").read("$.server.connections.closed.too_many_pings",
					Integer.class)).isEqualTo(1);
		}
		Map<String, Object> js = castMap((Map<?, ?>) advice
			.read("$[?(@.type == 'clients_ping_too_often' && @.subject =~ /grpc-node-js\\/.*/)]", List.class)
			.get(0));
		Map<String, Object> java = castMap((Map<?, ?>) advice
			.read("$[?(@.type == 'clients_ping_too_often' && @.subject =~ /grpc-java-netty\\/.*/)]", List.class)
			.get(0));
		assertThat(js).containsEntry("severity", "critical").containsEntry("side", "server");
		Map<String, Object> jsEvidence = castMap((Map<?, ?>) js.get("evidence"));
		assertThat((String) jsEvidence.get("userAgent")).startsWith("grpc-node-js/");
		// grpc-java's enforcer: GOAWAY too_many_pings at the third strike; the stream was in flight throughout
		assertThat(jsEvidence).containsEntry("strikes", 3)
			.containsEntry("strikesWithoutCalls", 0)
			.containsEntry("strikesByBdpPings", 0)
			.containsEntry("mostStrikesOnOneConnection", 3)
			.containsEntry("connectionsClosedTooManyPings", 1)
			.containsEntry("permitTime", "5m")
			.containsEntry("permitWithoutCalls", false);
		Map<String, Object> interval = castMap((Map<?, ?>) jsEvidence.get("pingIntervalMillis"));
		// grpc-js's timer never fires early; on a loaded machine it may fire late (the advice is the same up to 10s)
		assertThat(((Number) interval.get("median")).longValue()).isBetween(900L, 5_000L);
		Map<String, Object> jsRecommendation = castMap((Map<?, ?>) js.get("recommendation"));
		// every second is faster than any permit-time the advisor suggests: grpc-js is told to slow down
		assertThat(jsRecommendation).containsEntry("property", "grpc.keepalive_time_ms")
			.containsEntry("suggested", "300000");
		assertThat((String) jsRecommendation.get("text")).contains("leave grpc.keepalive.server.permit-time at 5m");
		// strikes with a call in flight: keepalive-without-calls does not matter
		assertThat(jsRecommendation).doesNotContainKey("alsoSet");

		assertThat(java).containsEntry("severity", "warning");
		Map<String, Object> javaEvidence = castMap((Map<?, ?>) java.get("evidence"));
		assertThat((String) javaEvidence.get("userAgent")).startsWith("grpc-java-netty/");
		assertThat(javaEvidence).containsEntry("connectionsClosedTooManyPings", 0);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> castMap(Map<?, ?> map) {
		return (Map<String, Object>) map;
	}

}
