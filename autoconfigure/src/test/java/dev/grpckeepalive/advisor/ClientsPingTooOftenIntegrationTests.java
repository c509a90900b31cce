package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.NodePeer;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Finding {@code clients_ping_too_often} from a real grpc-java client (keepalive 10s without
 * calls) against a server with gRPC's defaults (permit-time 5m, permit-without-calls false):
 * it appears at the first strike, grouped under the client's user agent, and shows the
 * measured interval and the fix before grpc-java's GOAWAY, which only the third strike
 * draws (about 30s in). And a grpc-js client pinging every second with a call in flight, next
 * to a grpc-java client: one finding per user agent, the grpc-js one critical after its GOAWAY.
 */
class ClientsPingTooOftenIntegrationTests {

	@Test
	void aGrpcJavaClientPingingEvery10sWithoutCallsIsDiagnosedBeforeTheGoAway() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed();
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + TestApps.port(server),
						"time=10s", "without-calls=true")) {
			// one call, so that the server learns the client's user agent; then the connection idles
			TestApps.blockingStub(client).echo(EchoRequest.newBuilder().setText("hello").build());

			DocumentContext advice = await().atMost(Duration.ofSeconds(28))
				.pollInterval(Duration.ofMillis(500))
				.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
						(json) -> json.read("$[?(@.type == 'clients_ping_too_often' && @.evidence.strikes >= 2)]",
								List.class).size() == 1);
			System.out.println("advice: " + advice.jsonString());

			Map<String, Object> finding = castMap(
					(Map<?, ?>) advice.read("$[?(@.type == 'clients_ping_too_often')]", List.class).get(0));
			assertThat(finding).containsEntry("severity", "warning")
				.containsEntry("side", "server")
				.containsEntry("channel", "server");
			assertThat((String) finding.get("subject")).startsWith("grpc-java-netty/");
			Map<String, Object> evidence = castMap((Map<?, ?>) finding.get("evidence"));
			assertThat((String) evidence.get("userAgent")).startsWith("grpc-java-netty/");
			assertThat(evidence).containsEntry("strikes", 2)
				.containsEntry("connectionsClosedTooManyPings", 0)
				.containsEntry("permitTime", "5m")
				.containsEntry("permitWithoutCalls", false);
			// the keepalive PING comes without calls; the BDP PING that answers the call's DATA may
			// come while the call is still counted
			assertThat((Integer) evidence.get("strikesWithoutCalls")).isBetween(1, 2);
			long median = ((Number) castMap((Map<?, ?>) evidence.get("pingIntervalMillis")).get("median")).longValue();
			assertThat(median).isBetween(9_500L, 11_500L);
			Map<String, Object> recommendation = castMap((Map<?, ?>) finding.get("recommendation"));
			assertThat(recommendation).containsEntry("property", "grpc.keepalive.server.permit-time")
				.containsEntry("current", "5m")
				.containsEntry("suggested", "9s");
			assertThat(advice.read("$[0].recommendation.alsoSet[0].property", String.class))
				.isEqualTo("grpc.keepalive.server.permit-without-calls");
			assertThat(advice.read("$[0].recommendation.alsoSet[0].suggested", String.class)).isEqualTo("true");

			// before the GOAWAY: grpc-java has not closed anything yet
			DocumentContext summary = Http.json(server, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.connections.closed.too_many_pings", Integer.class)).isZero();
			assertThat(summary.read("$.advice.findings.warning", Integer.class)).isGreaterThanOrEqualTo(1);
			assertThat(Http.json(server, "/actuator/metrics/grpc.keepalive.advice.findings?tag=type:clients_ping_too_often&tag=severity:warning")
				.read("$.measurements[0].value", Double.class)).isEqualTo(1.0);
		}
	}

	@Test
	void aGrpcJsClientIsGroupedUnderItsOwnUserAgentApartFromGrpcJava() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.observed();
				ConfigurableApplicationContext javaClient = TestApps.client("127.0.0.1:" + TestApps.port(server),
						"time=10s", "without-calls=true")) {
			// grpc-java: its BDP PING after the response strikes at once, its keepalive PING 10s later
			TestApps.blockingStub(javaClient).echo(EchoRequest.newBuilder().setText("hello").build());
			// grpc-js: keepalive every 1s, without-calls permitted, one idle stream in flight
			try (NodePeer jsClient = NodePeer.start("client", "127.0.0.1:" + TestApps.port(server), "1000", "1",
					"20000")) {
				DocumentContext outcome = jsClient.nextEvent(Duration.ofSeconds(20));
				assertThat(outcome.read("$.code", String.class)).as(outcome.jsonString())
					.isEqualTo("RESOURCE_EXHAUSTED");
			}
			DocumentContext advice = await().atMost(Duration.ofSeconds(15))
				.pollInterval(Duration.ofMillis(500))
				.until(() -> Http.json(server, "/actuator/grpckeepalive/advice"),
						(json) -> json.read("$[?(@.type == 'clients_ping_too_often')]", List.class).size() == 2);
			System.out.println("advice: " + advice.jsonString());

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
			assertThat(((Number) interval.get("median")).longValue()).isBetween(900L, 1_500L);
			Map<String, Object> jsRecommendation = castMap((Map<?, ?>) js.get("recommendation"));
			assertThat(jsRecommendation).containsEntry("property", "grpc.keepalive.server.permit-time")
				.containsEntry("current", "5m");
			// strikes with a call in flight: permit-without-calls does not matter
			assertThat(jsRecommendation).doesNotContainKey("alsoSet");

			assertThat(java).containsEntry("severity", "warning");
			Map<String, Object> javaEvidence = castMap((Map<?, ?>) java.get("evidence"));
			assertThat((String) javaEvidence.get("userAgent")).startsWith("grpc-java-netty/");
			assertThat(javaEvidence).containsEntry("connectionsClosedTooManyPings", 0);
			assertThat(Http.json(server, "/actuator/grpckeepalive").read("$.server.connections.closed.too_many_pings",
					Integer.class)).isEqualTo(1);
		}
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> castMap(Map<?, ?> map) {
		return (Map<String, Object>) map;
	}

}
