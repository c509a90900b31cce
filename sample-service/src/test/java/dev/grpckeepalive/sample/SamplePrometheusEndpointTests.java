package dev.grpckeepalive.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The sample as shipped serves the keepalive meters at /actuator/prometheus, as docs/fleet.md says. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "sample.tick-interval=50ms")
class SamplePrometheusEndpointTests {

	@DynamicPropertySource
	static void freePort(DynamicPropertyRegistry registry) throws IOException {
		int port = FreeGrpcPort.pick();
		registry.add("grpc.keepalive.server.port", () -> port);
		registry.add("grpc.keepalive.client.channels.prices.target", () -> "localhost:" + port);
	}

	@LocalServerPort
	private int httpPort;

	@Test
	void prometheusEndpointServesTheKeepAliveMeters() {
		HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
		HttpRequest request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + this.httpPort + "/actuator/prometheus"))
			.timeout(Duration.ofSeconds(10))
			.build();
		// the sample subscribes to its own feed: one connection on each side once the subscription is up
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.body())
				.contains("grpc_keepalive_connections_active{channel=\"server\",side=\"server\"} 1.0")
				.contains("grpc_keepalive_connections_active{channel=\"prices\",side=\"client\"} 1.0")
				.contains("# TYPE grpc_keepalive_pings_sent_total counter")
				.contains("grpc_keepalive_connections_closed_total{channel=\"prices\",reason=\"too_many_pings\",side=\"client\"}")
				.contains("grpc_keepalive_ping_rtt_seconds_count{channel=\"prices\",side=\"client\"}");
		});
	}

}
