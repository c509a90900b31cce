package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.List;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.DelayingTcpProxy;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Finding {@code timeout_close_to_rtt}: a channel with a keepalive timeout of 1s reaches its
 * server through a proxy that delays every byte by 300ms each way. The PINGs grpc-java sends
 * (its BDP PINGs come with the first responses, before any keepalive PING is due) measure
 * round trips of about 600ms: more than half the timeout.
 */
class TimeoutCloseToRttIntegrationTests {

	@Test
	void aChannelWhoseTimeoutIsCloseToTheMeasuredRoundTripIsToldToRaiseIt() throws Exception {
		try (ConfigurableApplicationContext server = TestApps.server();
				DelayingTcpProxy proxy = new DelayingTcpProxy(TestApps.port(server), Duration.ofMillis(300));
				ConfigurableApplicationContext app = TestApps.observed(
						"grpc.keepalive.client.channels.far.target=" + proxy.target(),
						"grpc.keepalive.client.channels.far.time=10s", "grpc.keepalive.client.channels.far.timeout=1s")) {
			var stub = dev.grpckeepalive.test.proto.TestServiceGrpc.newBlockingStub(
					app.getBean(dev.grpckeepalive.client.GrpcChannels.class).get("far"));

			DocumentContext advice = await().atMost(Duration.ofSeconds(20)).until(() -> {
				stub.echo(EchoRequest.newBuilder().setText("x".repeat(1000)).build());
				return Http.json(app, "/actuator/grpckeepalive/advice");
			}, (json) -> !json.read("$[?(@.type == 'timeout_close_to_rtt')]", List.class).isEmpty());
			System.out.println("advice: " + advice.jsonString());

			String finding = "$[?(@.type == 'timeout_close_to_rtt')]";
			assertThat(advice.read(finding + ".side", List.class)).containsExactly("client");
			assertThat(advice.read(finding + ".channel", List.class)).containsExactly("far");
			assertThat(advice.read(finding + ".evidence.timeout", List.class)).containsExactly("1s");
			Number max = (Number) advice.read(finding + ".evidence.pingRttMillis.max", List.class).get(0);
			assertThat(max.longValue()).isBetween(550L, 1000L);
			assertThat(advice.read(finding + ".recommendation.property", List.class))
				.containsExactly("grpc.keepalive.client.channels.far.timeout");
			assertThat(advice.read(finding + ".recommendation.current", List.class)).containsExactly("1s");
			assertThat(advice.read(finding + ".recommendation.suggested", List.class)).containsExactly(
					dev.grpckeepalive.config.DurationFormat.format(Duration.ofSeconds((4 * max.longValue() + 999) / 1000)));
		}
	}

}
