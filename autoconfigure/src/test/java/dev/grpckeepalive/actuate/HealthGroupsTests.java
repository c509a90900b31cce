package dev.grpckeepalive.actuate;

import java.net.http.HttpResponse;
import java.time.Duration;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.FreePorts;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The readiness group docs/kubernetes.md recommends: {@code readinessState} and
 * {@code grpcKeepalive/server}, without the channels. A channel in TRANSIENT_FAILURE (a
 * downstream outage) takes {@code /actuator/health} DOWN, as the contract says, but not
 * readiness; a server that no longer serves does.
 */
class HealthGroupsTests {

	@Test
	void aDownstreamOutageLeavesReadinessUpAndAStoppedServerTakesItDown() throws Exception {
		int nothingListens = FreePorts.take();
		try (ConfigurableApplicationContext app = TestApps.observed(
				"grpc.keepalive.client.channels.downstream.target=127.0.0.1:" + nothingListens,
				"management.endpoint.health.probes.enabled=true",
				"management.endpoint.health.group.readiness.include=readinessState,grpcKeepalive/server")) {
			ManagedChannel downstream = app.getBean(GrpcChannels.class).get("downstream");
			await().atMost(Duration.ofSeconds(10))
				.until(() -> downstream.getState(true) == ConnectivityState.TRANSIENT_FAILURE);

			HttpResponse<String> health = Http.get(app, "/actuator/health");
			assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
			assertThat(JsonPath.parse(health.body()).read("$.components.grpcKeepalive.components.downstream.status",
					String.class)).isEqualTo("DOWN");

			HttpResponse<String> readiness = Http.get(app, "/actuator/health/readiness");
			assertThat(readiness.statusCode()).as(readiness.body()).isEqualTo(200);
			DocumentContext ready = JsonPath.parse(readiness.body());
			assertThat(ready.read("$.status", String.class)).isEqualTo("UP");
			assertThat(ready.read("$.components.grpcKeepalive.components.server.status", String.class)).isEqualTo("UP");
			assertThat(ready.read("$.components.grpcKeepalive.components", java.util.Map.class)).containsOnlyKeys("server");

			HttpResponse<String> liveness = Http.get(app, "/actuator/health/liveness");
			assertThat(liveness.statusCode()).as(liveness.body()).isEqualTo(200);
			assertThat(liveness.body()).doesNotContain("grpcKeepalive");

			app.getBean(KeepAliveGrpcServer.class).stop();
			HttpResponse<String> stopped = Http.get(app, "/actuator/health/readiness");
			assertThat(stopped.statusCode()).as(stopped.body()).isEqualTo(503);
			assertThat(JsonPath.parse(stopped.body()).read("$.components.grpcKeepalive.components.server.details.reason",
					String.class)).isEqualTo("not running");
		}
	}

}
