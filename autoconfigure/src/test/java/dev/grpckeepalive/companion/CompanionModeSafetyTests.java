package dev.grpckeepalive.companion;

import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.logging.GrpcLogCondenser;
import dev.grpckeepalive.server.ObservedGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.RawHttp2Attacker.Mode;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.UnexpectedPingAckWarnings;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.client.GrpcChannelBuilderCustomizer;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import org.springframework.grpc.server.ShadedNettyGrpcServerFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.awaitility.Awaitility.await;

/**
 * Companion mode: nothing an application had working on Spring Boot's gRPC starters breaks
 * silently when this starter is added. Each case is either supported (and exercised here with
 * real calls) or refused at startup with a report.
 */
@ExtendWith(OutputCaptureExtension.class)
@ResourceLock(Resources.SYSTEM_OUT)
@Execution(ExecutionMode.SAME_THREAD)
class CompanionModeSafetyTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("companion").build();

	private static final String LIMITS_LINE = "HTTP/2 abuse limits on Spring Boot's gRPC server: ";

	/**
	 * The bug as users met it: with grpc-netty-shaded on the class path Spring Boot builds
	 * with the shaded builders and skips customizers typed on unshaded grpc-netty's, without a
	 * word. Reproduced with this starter's companion auto-configuration (which refuses it)
	 * left out.
	 */
	@Test
	void withoutTheCheckSpringBootSkipsUnshadedCustomizersSilently() {
		try (ConfigurableApplicationContext app = run(UnshadedCustomizersApp.class,
				"spring.autoconfigure.exclude=" + GrpcKeepAliveCompanionAutoConfiguration.class.getName())) {
			ManagedChannel channel = app.getBean(GrpcChannelFactory.class)
				.createChannel("static://127.0.0.1:" + app.getBean(GrpcServerLifecycle.class).getPort());
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");
			}
			finally {
				channel.shutdownNow();
			}
			Calls calls = app.getBean(Calls.class);
			assertThat(calls.server).hasValue(0);
			assertThat(calls.channels).hasValue(0);
		}
	}

	@Test
	void unshadedCustomizersFailStartupWithReportNamingEachBeanAndTheFix(CapturedOutput output) {
		assertThatException().isThrownBy(() -> run(UnshadedCustomizersApp.class));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Spring Boot would skip these gRPC customizers without a word:")
			.contains("- bean 'unshadedServerCustomizer' (@Bean " + UnshadedCustomizersApp.class.getName()
					+ ".unshadedServerCustomizer()): ServerBuilderCustomizer<io.grpc.netty.NettyServerBuilder>,"
					+ " but Spring Boot builds its gRPC server with io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder")
			.contains("- bean 'unshadedChannelCustomizer' (@Bean " + UnshadedCustomizersApp.class.getName()
					+ ".unshadedChannelCustomizer()): GrpcChannelBuilderCustomizer<io.grpc.netty.NettyChannelBuilder>")
			.contains("Type each customizer on grpc-netty-shaded's builder: ServerBuilderCustomizer<"
					+ "io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder>")
			.contains("implement the raw ServerBuilderCustomizer or GrpcChannelBuilderCustomizer");
	}

	/**
	 * Customizers typed on the shaded builders, raw ones, and ones meant for another builder
	 * (in-process) start, and Spring Boot applies the first two to its network server and
	 * channels: the refusal names only customizers that would really be skipped.
	 */
	@Test
	void shadedRawAndInProcessCustomizersStartAndApply() {
		try (ConfigurableApplicationContext app = run(ApplicableCustomizersApp.class)) {
			ManagedChannel channel = app.getBean(GrpcChannelFactory.class)
				.createChannel("static://127.0.0.1:" + app.getBean(GrpcServerLifecycle.class).getPort());
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");
			}
			finally {
				channel.shutdownNow();
			}
			Calls calls = app.getBean(Calls.class);
			assertThat(calls.server).as("the shaded and the raw server customizer").hasValue(2);
			assertThat(calls.channels).as("the shaded and the raw channel customizer").hasValue(2);
			assertThat(calls.inProcess).as("no in-process server runs").hasValue(0);
		}
	}

	/**
	 * Spring Boot's server on a Unix domain socket and a Boot channel to it: both are
	 * instrumented on epoll's domain socket channels, and calls go through.
	 */
	@Test
	void domainSocketServerAndChannelWorkAndAreTracked(@TempDir Path dir) throws Exception {
		String socket = dir.resolve("grpc.sock").toString();
		try (ConfigurableApplicationContext app = runWeb(DomainSocketApp.class,
				"spring.grpc.server.netty.transport=domain-socket", "spring.grpc.server.netty.domain-socket-path=" + socket,
				"spring.grpc.client.channel.uds.target=unix:" + socket)) {
			ManagedChannel channel = app.getBean(GrpcChannelFactory.class).createChannel("uds");
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");
				ConnectionTrackerView server = app.getBean(ObservedGrpcServer.class).getConnections();
				assertThat(server.activeConnections()).isEqualTo(1);
				assertThat(server.isFramesObserved()).isTrue();
				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.channels.uds.connections.active", Integer.class)).isEqualTo(1);
				assertThat(summary.read("$.channels.uds.connections.open[0].observer", String.class)).isEqualTo("on");
				assertThat(summary.read("$.server.connections.active", Integer.class)).isEqualTo(1);
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	/**
	 * Spring Boot's in-process server beside its network server, and an in-process channel:
	 * both are left as Spring Boot builds them (there is no transport to keep alive); calls go
	 * through, and the network server is still the one this starter reports.
	 */
	@Test
	void inProcessServerAndChannelAreLeftAloneAndWork() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.inprocess.name=companion",
				"spring.grpc.client.inprocess.enabled=true")) {
			ManagedChannel channel = app.getBean(GrpcChannelFactory.class).createChannel("in-process:companion");
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("companion");
				ObservedGrpcServer server = app.getBean(ObservedGrpcServer.class);
				int networkPort = app.getBeanProvider(GrpcServerLifecycle.class)
					.orderedStream()
					.filter((lifecycle) -> lifecycle.getFactory() instanceof ShadedNettyGrpcServerFactory)
					.findFirst()
					.orElseThrow()
					.getPort();
				assertThat(app.getBeansOfType(GrpcServerLifecycle.class)).as("in-process and network").hasSize(2);
				assertThat(server.getPort()).isEqualTo(networkPort);
				assertThat(server.isRunning()).isTrue();
				assertThat(server.getConnections().openedConnections()).isZero();
				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.server.port", Integer.class)).isEqualTo(networkPort);
				assertThat(summary.read("$.channels.length()", Integer.class)).isZero();
				assertThat(TestApps.echoOnNewChannel(networkPort)).isEqualTo("hello");
			}
			finally {
				channel.shutdownNow();
			}
		}
	}

	@Test
	void serverEnabledFalseLeavesBootsServerAsBootConfiguredIt(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("grpc.keepalive.server.enabled=false",
				"grpc.keepalive.server.limits.max-concurrent-calls-per-connection=71")) {
			assertThat(app.getBeansOfType(CompanionGrpcServer.class)).isEmpty();
			assertThat(app.getBeansOfType(ObservedGrpcServer.class)).isEmpty();
			assertThat(app.getBeansOfType(GrpcLogCondenser.Hold.class)).isEmpty();
			int port = app.getBean(GrpcServerLifecycle.class).getPort();
			assertThat(TestApps.echoOnNewChannel(port)).isEqualTo("hello");
			assertThat(Http.json(app, "/actuator/grpckeepalive").read("$.server", Object.class)).isNull();
			assertThat(output).doesNotContain("max-concurrent-calls-per-connection=71");
		}
	}

	@Test
	void serverPropertiesSpringBootOwnsAreNamedInOneWarning(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("grpc.keepalive.server.port=9411",
				"grpc.keepalive.server.shutdown-grace=7s", "grpc.keepalive.server.ssl.bundle=companion-bundle")) {
			String warning = "Spring Boot's gRPC server runs in place of this starter's, so these properties have no"
					+ " effect: grpc.keepalive.server.port=9411 (use spring.grpc.server.port),"
					+ " grpc.keepalive.server.shutdown-grace=7s (use spring.grpc.server.shutdown.grace-period),"
					+ " grpc.keepalive.server.ssl.* (use spring.grpc.server.ssl.*)";
			assertThat(lines(output, warning)).singleElement().asString().contains("WARN");
		}
	}

	/**
	 * Spring Boot has no property for grpc-java's handshake timeout (120s), the defence against
	 * connections that never speak HTTP/2: this starter's applies to Spring Boot's server.
	 */
	@Test
	void handshakeTimeoutAppliesToBootsServer() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc("grpc.keepalive.server.handshake-timeout=1s");
				Socket silent = new Socket("127.0.0.1", app.getBean(GrpcServerLifecycle.class).getPort())) {
			silent.setSoTimeout(30_000);
			long start = System.nanoTime();
			InputStream in = silent.getInputStream();
			// the server's SETTINGS, then the end of the stream when it closes the silent connection
			while (in.read() != -1) {
			}
			assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed after 1s, not grpc-java's 120s")
				.isBetween(Duration.ofMillis(500), Duration.ofSeconds(30));
		}
	}

	@Test
	void abuseLimitsOnBootsServerAreStatedInOneInfoLine(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc(
				"grpc.keepalive.server.limits.max-concurrent-calls-per-connection=73",
				"grpc.keepalive.server.limits.max-settings-frames=-1")) {
			List<String> lines = lines(output, LIMITS_LINE + "grpc.keepalive.server.limits.max-concurrent-calls-per-connection=73");
			assertThat(lines).singleElement()
				.asString()
				.contains("INFO")
				.contains("grpc.keepalive.server.limits.max-rst-frames=10000 per 1s")
				.contains("grpc.keepalive.server.limits.max-connections=10000")
				.contains("grpc.keepalive.server.limits.max-premature-resets=1000 per 10s")
				.doesNotContain("max-settings-frames")
				.doesNotContain("max-inbound-metadata-size")
				.endsWith("set one to -1 to turn it off (see the starter's docs/security.md)");
		}
	}

	/**
	 * The more specific setting wins: channel {@code own} sets its keepalive time itself and
	 * pings every 10s, though {@code grpc.keepalive.client.defaults.time} is an hour; channel
	 * {@code plain} sets none and takes the hour.
	 */
	@Test
	void channelsOwnKeepAliveBeatsClientDefaults(CapturedOutput output) throws Exception {
		try (ConfigurableApplicationContext upstream = TestApps.server("permit-time=5s", "permit-without-calls=true");
				ConfigurableApplicationContext app = TestApps.withBootGrpc("spring.grpc.server.enabled=false",
						"grpc.keepalive.server.enabled=false",
						"spring.grpc.client.channel.own.target=static://127.0.0.1:" + TestApps.port(upstream),
						"spring.grpc.client.channel.own.keepalive.time=10s",
						"spring.grpc.client.channel.own.keepalive.without-calls=true",
						"spring.grpc.client.channel.plain.target=static://127.0.0.1:" + TestApps.port(upstream),
						"grpc.keepalive.client.defaults.time=1h", "grpc.keepalive.client.defaults.without-calls=true")) {
			GrpcChannelFactory factory = app.getBean(GrpcChannelFactory.class);
			ManagedChannel own = factory.createChannel("own");
			ManagedChannel plain = factory.createChannel("plain");
			try {
				assertThat(TestServiceGrpc.newBlockingStub(own).echo(HELLO).getText()).isEqualTo("companion");
				assertThat(TestServiceGrpc.newBlockingStub(plain).echo(HELLO).getText()).isEqualTo("companion");
				DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.channels.own.settings.time.effective", String.class)).isEqualTo("10s");
				assertThat(summary.read("$.channels.plain.settings.time.effective", String.class)).isEqualTo("1h");
				assertThat(output).contains("spring.grpc.client.channel.own.keepalive.time=10s applied to Spring Boot's"
						+ " gRPC channel 'own' (overrides grpc.keepalive.client.defaults.time=1h)")
					.contains("grpc.keepalive.client.defaults.time=1h applied to Spring Boot's gRPC channel 'plain'");
				// grpc-java really uses the channel's own 10s: its keepalive PINGs go out on the idle connection
				MeterRegistry meters = app.getBean(MeterRegistry.class);
				await().atMost(Duration.ofSeconds(30))
					.until(() -> meters.get("grpc.keepalive.pings.sent")
						.tags("side", "client", "channel", "own", "kind", "keepalive")
						.functionCounter()
						.count() >= 1);
			}
			finally {
				own.shutdownNow();
				plain.shutdownNow();
			}
		}
	}

	/**
	 * grpc-java logs a WARN for every unsolicited PING ACK; on Spring Boot's server too, the
	 * JVM's condenser lets at most one a minute through.
	 */
	@Test
	void grpcJavasPerFrameLogsAreCondensedOnBootsServer() throws Exception {
		UnexpectedPingAckWarnings probe = UnexpectedPingAckWarnings.count();
		// the frame observer's own limit would close the flood after 10 ACKs: this is about grpc-java's WARN per ACK
		try (ConfigurableApplicationContext app = TestApps.withBootGrpc(
				"grpc.keepalive.server.limits.max-unsolicited-ping-acks=-1")) {
			assertThat(app.getBeansOfType(GrpcLogCondenser.Hold.class)).hasSize(1);
			int port = app.getBean(GrpcServerLifecycle.class).getPort();
			RawHttp2Attacker.Report report = RawHttp2Attacker.attack(port, Mode.PING_ACK_FLOOD)
				.duration(Duration.ofSeconds(1))
				.run();
			ConnectionTrackerView connections = app.getBean(ObservedGrpcServer.class).getConnections();
			// the server has read all the attacker wrote once it has closed the connection the attacker closed
			await().atMost(Duration.ofSeconds(30))
				.until(() -> connections.openedConnections() >= 1 && connections.activeConnections() == 0);
			assertThat(report.framesSent()).isGreaterThan(1_000);
			// one record per minute passes the JVM's condenser; an earlier flood in this JVM may have used it up
			assertThat(probe.published()).isLessThanOrEqualTo(2);
		}
		finally {
			probe.close();
		}
	}

	private static List<String> lines(CapturedOutput output, String containing) {
		List<String> lines = new ArrayList<>();
		for (String line : output.getOut().split("\\R")) {
			if (line.contains(containing)) {
				lines.add(line);
			}
		}
		return lines;
	}

	/** A web application, as {@link TestApps#withBootGrpc} starts, from {@code source}. */
	private static ConfigurableApplicationContext runWeb(Class<?> source, String... properties) {
		List<String> all = new ArrayList<>(List.of("server.port=0", "management.endpoints.web.exposure.include=*",
				"management.endpoint.health.show-details=always"));
		all.addAll(List.of(properties));
		return new SpringApplicationBuilder(source).web(WebApplicationType.SERVLET)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(all.toArray(String[]::new))
			.run();
	}

	private static ConfigurableApplicationContext run(Class<?> source, String... properties) {
		List<String> all = new ArrayList<>(List.of("spring.grpc.server.port=0", "server.port=0"));
		all.addAll(List.of(properties));
		return new SpringApplicationBuilder(source).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(all.toArray(String[]::new))
			.run();
	}

	/** Counts how often each kind of customizer ran. */
	static final class Calls {

		final AtomicInteger server = new AtomicInteger();

		final AtomicInteger channels = new AtomicInteger();

		final AtomicInteger inProcess = new AtomicInteger();

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class UnshadedCustomizersApp {

		@Bean(destroyMethod = "close")
		TestService testService() {
			return new TestService();
		}

		@Bean
		Calls calls() {
			return new Calls();
		}

		/** A lambda: only its bean's declared type names the builder. */
		@Bean
		ServerBuilderCustomizer<io.grpc.netty.NettyServerBuilder> unshadedServerCustomizer(Calls calls) {
			return (builder) -> calls.server.incrementAndGet();
		}

		@Bean
		UnshadedChannelCustomizer unshadedChannelCustomizer(Calls calls) {
			return new UnshadedChannelCustomizer(calls);
		}

	}

	/** A class: its type argument names the builder. */
	static final class UnshadedChannelCustomizer implements GrpcChannelBuilderCustomizer<io.grpc.netty.NettyChannelBuilder> {

		private final Calls calls;

		UnshadedChannelCustomizer(Calls calls) {
			this.calls = calls;
		}

		@Override
		public void customize(String target, io.grpc.netty.NettyChannelBuilder builder) {
			this.calls.channels.incrementAndGet();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class ApplicableCustomizersApp {

		@Bean(destroyMethod = "close")
		TestService testService() {
			return new TestService();
		}

		@Bean
		Calls calls() {
			return new Calls();
		}

		@Bean
		ServerBuilderCustomizer<io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder> shadedServerCustomizer(
				Calls calls) {
			return (builder) -> calls.server.incrementAndGet();
		}

		@Bean
		@SuppressWarnings("rawtypes")
		ServerBuilderCustomizer rawServerCustomizer(Calls calls) {
			return (builder) -> calls.server.incrementAndGet();
		}

		@Bean
		ServerBuilderCustomizer<InProcessServerBuilder> inProcessServerCustomizer(Calls calls) {
			return (builder) -> calls.inProcess.incrementAndGet();
		}

		@Bean
		GrpcChannelBuilderCustomizer<io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder> shadedChannelCustomizer(
				Calls calls) {
			return (target, builder) -> calls.channels.incrementAndGet();
		}

		@Bean
		@SuppressWarnings("rawtypes")
		GrpcChannelBuilderCustomizer rawChannelCustomizer(Calls calls) {
			return (target, builder) -> calls.channels.incrementAndGet();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class DomainSocketApp {

		@Bean(destroyMethod = "close")
		TestService testService() {
			return new TestService();
		}

		/**
		 * Spring Boot builds a {@code unix:} channel without the channel's credentials, so it
		 * negotiates TLS: a plaintext server needs this, with or without this starter.
		 */
		@Bean
		GrpcChannelBuilderCustomizer<io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder> plaintextDomainSockets() {
			return (target, builder) -> {
				if (target.equals("uds")) {
					builder.usePlaintext();
				}
			};
		}

	}

}
