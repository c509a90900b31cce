package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.ObservedGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An application that uses Spring Boot's own gRPC server and client starters: this starter
 * starts no server of its own, applies the grpc.keepalive.* options that are set (they win
 * over spring.grpc.*), and tracks and observes Spring Boot's connections.
 */
@ExtendWith(OutputCaptureExtension.class)
@ResourceLock(Resources.SYSTEM_OUT)
@Execution(ExecutionMode.SAME_THREAD)
class CompanionModeIntegrationTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("companion").build();

	@Test
	void bootsServerRunsAloneWithOurOptionsTrackingAndEndpoint(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.keepalive.permit.time=1m",
				"grpc.keepalive.server.permit-time=20s", "grpc.keepalive.server.max-connection-idle=1s");
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + bootPort(app))) {
			assertThat(app.getBeansOfType(KeepAliveGrpcServer.class)).isEmpty();
			// with grpc-netty and grpc-netty-shaded both present, Spring Boot picks the shaded factory
			assertThat(app.getBean(GrpcServerLifecycle.class).getFactory().getClass().getSimpleName())
				.isEqualTo("ShadedNettyGrpcServerFactory");
			assertThat(TestApps.blockingStub(client).echo(HELLO).getText()).isEqualTo("companion");

			ObservedGrpcServer server = app.getBean(ObservedGrpcServer.class);
			assertThat(server.getPort()).isEqualTo(bootPort(app));
			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.port", Integer.class)).isEqualTo(bootPort(app));
			assertThat(summary.read("$.server.settings.permitTime.requested", String.class)).isEqualTo("20s");
			assertThat(summary.read("$.server.settings.maxConnectionIdle.effective", String.class)).isEqualTo("1s");
			assertThat(output).contains("grpc.keepalive.server.permit-time=20s applied to Spring Boot's gRPC server"
					+ " (overrides spring.grpc.server.keepalive.permit.time=1m)");

			// max-connection-idle=1s is ours: Spring Boot's server closes the idle connection with max_idle
			await().atMost(Duration.ofSeconds(5))
				.until(() -> server.getConnections().closedConnections(CloseReason.MAX_IDLE) == 1);
			assertThat(server.getConnections().isFramesObserved()).isTrue();
			assertThat(app.getBean(MeterRegistry.class)
				.get("grpc.keepalive.connections.closed")
				.tags("channel", "server", "reason", "max_idle")
				.functionCounter()
				.count()).isEqualTo(1);
			DocumentContext health = JsonPath.parse(Http.get(app, "/actuator/health").body());
			assertThat(health.read("$.components.grpcKeepalive.components.server.status", String.class)).isEqualTo("UP");
		}
	}

	@Test
	void bootsChannelsAreTrackedWithOurDefaults(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext upstream = TestApps.server("permit-time=5s", "permit-without-calls=true");
				ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.enabled=false",
						"spring.grpc.client.channel.upstream.target=static://127.0.0.1:" + TestApps.port(upstream),
						"grpc.keepalive.client.defaults.time=30s")) {
			ManagedChannel channel = app.getBean(GrpcChannelFactory.class).createChannel("upstream");
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");

				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.channels.upstream.settings.time.effective", String.class)).isEqualTo("30s");
				assertThat(summary.read("$.channels.upstream.connections.active", Integer.class)).isEqualTo(1);
				List<Map<String, Object>> open = summary.read("$.channels.upstream.connections.open");
				assertThat(open).singleElement()
					.satisfies((connection) -> assertThat(connection).containsEntry("observer", "on"));
				assertThat(output).contains("grpc.keepalive.client.defaults.time=30s applied to Spring Boot's gRPC"
						+ " channel 'upstream'");
				assertThat(app.getBean(MeterRegistry.class)
					.get("grpc.keepalive.connections.active")
					.tags("side", "client", "channel", "upstream")
					.gauge()
					.value()).isEqualTo(1);
				DocumentContext health = JsonPath.parse(Http.get(app, "/actuator/health").body());
				assertThat(health.read("$.components.grpcKeepalive.components.upstream.status", String.class))
					.isEqualTo("UP");
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	private static int bootPort(ConfigurableApplicationContext app) {
		return app.getBean(GrpcServerLifecycle.class).getPort();
	}

}
