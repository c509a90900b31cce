package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

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
import dev.grpckeepalive.test.Http2FrameLog;
import dev.grpckeepalive.test.Http2FrameLog.Direction;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
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
						"grpc.keepalive.server.enabled=false",
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

	/**
	 * Spring Boot reads a bare number in its keepalive properties as seconds
	 * ({@code @DurationUnit(SECONDS)}), so this starter reports and uses seconds too: in the
	 * endpoint, and in the frame observer, which counts an unanswered keepalive PING as timed
	 * out only after the keepalive timeout (here 20s, not 20ms).
	 */
	@Test
	void bareNumbersInBootsServerPropertiesAreSeconds(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.keepalive.time=10",
				"spring.grpc.server.keepalive.timeout=20", "spring.grpc.server.keepalive.permit.time=30",
				"spring.grpc.server.keepalive.connection.max-idle-time=15",
				"spring.grpc.server.keepalive.connection.max-age=3600",
				"spring.grpc.server.keepalive.connection.grace-period=40",
				// blackholed connections below: do not wait for them on shutdown
				"spring.grpc.server.shutdown.grace-period=0");
				SniffingTcpProxy proxy = new SniffingTcpProxy(bootPort(app));
				ConfigurableApplicationContext client = TestApps.client(proxy.target())) {
			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.settings.time.effective", String.class)).isEqualTo("10s");
			assertThat(summary.read("$.server.settings.timeout.effective", String.class)).isEqualTo("20s");
			assertThat(summary.read("$.server.settings.permitTime.effective", String.class)).isEqualTo("30s");
			assertThat(summary.read("$.server.settings.maxConnectionIdle.effective", String.class)).isEqualTo("15s");
			assertThat(summary.read("$.server.settings.maxConnectionAge.effective", String.class)).isEqualTo("1h");
			assertThat(summary.read("$.server.settings.maxConnectionAgeGrace.effective", String.class))
				.isEqualTo("40s");
			// no clamp warning: the values are not read as milliseconds (10ms, 20ms, ...); only clamp
			// warnings are looked for: tests running beside this one log other lines naming properties
			assertThat(output).doesNotContain("spring.grpc.server.keepalive.time=10ms")
				.doesNotContain("spring.grpc.server.keepalive.timeout=20ms")
				.doesNotContain("spring.grpc.server.keepalive.permit.time=30ms")
				.doesNotContain("grpc.keepalive.server.time=10ms");

			assertThat(TestApps.blockingStub(client).echo(HELLO).getText()).isEqualTo("companion");
			proxy.blackhole();
			// Spring Boot's server pings after 10s of silence; the PING is never answered, and at 15s
			// idle the server sends GOAWAY max_idle, 5s into the 20s keepalive timeout
			await().atMost(Duration.ofSeconds(25))
				.until(() -> !proxy.frames().goAways(Direction.SERVER_TO_CLIENT).isEmpty());
			List<Http2FrameLog.Frame> pings = proxy.frames()
				.pings(Direction.SERVER_TO_CLIENT, Http2FrameLog.SERVER_KEEPALIVE_PAYLOAD);
			Http2FrameLog.Frame goAway = proxy.frames().goAways(Direction.SERVER_TO_CLIENT).get(0);
			assertThat(goAway.debugData()).isEqualTo("max_idle");
			assertThat(pings).isNotEmpty();
			assertThat(Duration.ofNanos(goAway.nanoTime() - pings.get(0).nanoTime())).isBetween(Duration.ofSeconds(1),
					Duration.ofSeconds(10));
			MeterRegistry meters = app.getBean(MeterRegistry.class);
			await().atMost(Duration.ofSeconds(5))
				.until(() -> meters.get("grpc.keepalive.goaways")
					.tags("channel", "server", "direction", "sent", "reason", "max_idle")
					.functionCounter()
					.count() == 1);
			assertThat(meters.get("grpc.keepalive.pings.sent")
				.tags("channel", "server", "kind", "keepalive")
				.functionCounter()
				.count()).isEqualTo(1);
			assertThat(meters.get("grpc.keepalive.ping.timeouts").tags("channel", "server").functionCounter().count())
				.as("the PING was outstanding for seconds, within the 20s timeout")
				.isZero();
		}
	}

	@Test
	void bareNumbersInBootsChannelPropertiesAreSecondsAndWarningsNameBootsProperty(CapturedOutput output)
			throws Exception {
		try (ConfigurableApplicationContext upstream = TestApps.server("permit-time=10s");
				ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.enabled=false",
						"grpc.keepalive.server.enabled=false",
						"spring.grpc.client.channel.self.target=static://127.0.0.1:" + TestApps.port(upstream),
						"spring.grpc.client.channel.self.keepalive.time=45",
						"spring.grpc.client.channel.self.keepalive.timeout=20",
						"spring.grpc.client.channel.x.target=static://127.0.0.1:" + TestApps.port(upstream),
						"spring.grpc.client.channel.x.keepalive.time=5s")) {
			// warned at startup, under the property the user wrote
			String warning = "spring.grpc.client.channel.x.keepalive.time=5s takes effect as 10s";
			assertThat(output).contains(warning)
				.doesNotContain("spring.grpc.client.channel.self")
				// this test's channels only: tests running beside it log about their own
				.doesNotContain("grpc.keepalive.client.channels.x.")
				.doesNotContain("grpc.keepalive.client.channels.self.");
			assertThat(output.toString().split(warning, -1)).as("warned once").hasSize(2);

			GrpcChannelFactory factory = app.getBean(GrpcChannelFactory.class);
			ManagedChannel self = factory.createChannel("self");
			ManagedChannel x = factory.createChannel("x");
			assertThat(TestServiceGrpc.newBlockingStub(self).echo(HELLO).getText()).isEqualTo("companion");
			assertThat(TestServiceGrpc.newBlockingStub(x).echo(HELLO).getText()).isEqualTo("companion");

			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.channels.self.settings.time.requested", String.class)).isEqualTo("45s");
			assertThat(summary.read("$.channels.self.settings.time.effective", String.class)).isEqualTo("45s");
			assertThat(summary.read("$.channels.self.settings.timeout.effective", String.class)).isEqualTo("20s");
			assertThat(summary.read("$.channels.x.settings.time.requested", String.class)).isEqualTo("5s");
			assertThat(summary.read("$.channels.x.settings.time.effective", String.class)).isEqualTo("10s");
		}
	}

	@Test
	void invalidBootServerValueFailsStartupWithReportNamingIt(CapturedOutput output) {
		assertThatException().isThrownBy(() -> TestApps.withBootGrpc("spring.grpc.server.keepalive.time=-5"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: spring.grpc.server.keepalive.time")
			.contains("Value:    \"-5\"")
			.contains("spring.grpc.server.keepalive.time: Use a positive duration such as 30s, or remove the property"
					+ " for Spring Boot's default of 2h.")
			.doesNotContain("grpc.keepalive.server.time=-5");
	}

	@Test
	void invalidBootChannelValueFailsStartupWithReportNamingIt(CapturedOutput output) {
		assertThatException().isThrownBy(() -> TestApps.withBootGrpc("spring.grpc.server.enabled=false",
				"grpc.keepalive.server.enabled=false",
				"spring.grpc.client.channel.x.keepalive.timeout=0"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: spring.grpc.client.channel.x.keepalive.timeout")
			.contains("Value:    \"0\"")
			.contains("spring.grpc.client.channel.x.keepalive.timeout: Use a positive duration such as 30s, or remove"
					+ " the property for Spring Boot's default of 20s.")
			// only about channel x: tests running beside this one log about their own channels
			.doesNotContain("grpc.keepalive.client.channels.x.");
	}

	/**
	 * {@code createChannel} with a target instead of a channel name, as Spring Boot allows:
	 * the channel works and is tracked under a name derived from the target, and however many
	 * targets an application dials, the {@code channel} tag keeps a bounded set of values.
	 */
	@Test
	void channelsCreatedFromTargetsWorkAndAreTrackedUnderBoundedNames(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext upstream = TestApps.server();
				ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.enabled=false",
						"grpc.keepalive.server.enabled=false",
						"spring.grpc.client.channel.upstream.target=static://127.0.0.1:" + TestApps.port(upstream))) {
			int port = TestApps.port(upstream);
			GrpcChannelFactory factory = app.getBean(GrpcChannelFactory.class);
			MeterRegistry meters = app.getBean(MeterRegistry.class);
			Map<String, String> targets = Map.of("static://127.0.0.1:" + port, "127.0.0.1:" + port,
					"dns:///127.0.0.1:" + port, "dns:127.0.0.1:" + port, "localhost:" + port, "localhost:" + port);
			for (Map.Entry<String, String> target : targets.entrySet()) {
				ManagedChannel channel = factory.createChannel(target.getKey());
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");
				String name = target.getValue();
				assertThat(meters.get("grpc.keepalive.connections.active")
					.tags("side", "client", "channel", name)
					.gauge()
					.value()).as(name).isEqualTo(1);
				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.channels['" + name + "'].target", String.class)).isEqualTo(target.getKey());
				assertThat(summary.read("$.channels['" + name + "'].connections.active", Integer.class)).isEqualTo(1);
				assertThat(summary.read("$.channels['" + name + "'].settings.time.effective", String.class))
					.as("Spring Boot's stock keepalive for a target").isEqualTo("5m");
				DocumentContext health = JsonPath.parse(Http.get(app, "/actuator/health/grpcKeepalive/" + name).body());
				assertThat(health.read("$.status", String.class)).isEqualTo("UP");
			}
			assertThat(output).contains("Spring Boot's gRPC channel for target 'static://127.0.0.1:" + port
					+ "' is tracked as '127.0.0.1:" + port + "', apart from channel 'upstream' with the same target");

			for (int i = 0; i < 3 * ChannelNames.MAX_TARGET_NAMES; i++) {
				factory.createChannel("static://host-" + i + ".invalid:9090");
			}
			Set<String> tags = new HashSet<>();
			meters.find("grpc.keepalive.connections.active")
				.tag("side", "client")
				.gauges()
				.forEach((gauge) -> tags.add(gauge.getId().getTag("channel")));
			assertThat(tags).hasSize(ChannelNames.MAX_TARGET_NAMES + 1)
				.containsAll(targets.values())
				.contains("host-0.invalid:9090", ChannelNames.OVERFLOW)
				.doesNotContain("host-" + (3 * ChannelNames.MAX_TARGET_NAMES - 1) + ".invalid:9090");
			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.channels.other.target", String.class)).startsWith("(targets beyond the first");
		}
	}

	/**
	 * A channel created again under the same name joins the first one's tracker, the one its
	 * meters were bound to: the gauge counts the second channel's connection.
	 */
	@Test
	void channelCreatedTwiceKeepsItsMetersOnTheLiveTracker() throws Exception {
		try (ConfigurableApplicationContext upstream = TestApps.server();
				ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.enabled=false",
						"grpc.keepalive.server.enabled=false",
						"spring.grpc.client.channel.upstream.target=static://127.0.0.1:" + TestApps.port(upstream))) {
			GrpcChannelFactory factory = app.getBean(GrpcChannelFactory.class);
			MeterRegistry meters = app.getBean(MeterRegistry.class);
			String target = "static://127.0.0.1:" + TestApps.port(upstream);
			for (String nameOrTarget : List.of("upstream", target)) {
				String name = nameOrTarget.equals("upstream") ? "upstream" : "127.0.0.1:" + TestApps.port(upstream);
				ManagedChannel first = factory.createChannel(nameOrTarget);
				assertThat(TestServiceGrpc.newBlockingStub(first).echo(HELLO).getText()).isEqualTo("companion");
				assertThat(activeConnections(meters, name)).isEqualTo(1);
				first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
				await().atMost(Duration.ofSeconds(5)).until(() -> activeConnections(meters, name) == 0);

				ManagedChannel second = factory.createChannel(nameOrTarget);
				assertThat(TestServiceGrpc.newBlockingStub(second).echo(HELLO).getText()).isEqualTo("companion");
				assertThat(activeConnections(meters, name)).as(name).isEqualTo(1);
				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.channels['" + name + "'].connections.active", Integer.class)).isEqualTo(1);
				assertThat(summary.read("$.channels['" + name + "'].connections.opened", Integer.class)).isEqualTo(2);
			}
		}
	}

	private static double activeConnections(MeterRegistry meters, String channel) {
		return meters.get("grpc.keepalive.connections.active")
			.tags("side", "client", "channel", channel)
			.gauge()
			.value();
	}

	private static int bootPort(ConfigurableApplicationContext app) {
		return app.getBean(GrpcServerLifecycle.class).getPort();
	}

}
