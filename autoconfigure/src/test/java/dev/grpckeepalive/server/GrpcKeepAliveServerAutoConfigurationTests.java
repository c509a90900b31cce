package dev.grpckeepalive.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.test.Http2FrameLog.Direction;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.SniffingTcpProxy;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.annotation.Order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** When the server is configured and how it starts, customizes and stops. */
class GrpcKeepAliveServerAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class))
		.withPropertyValues("grpc.keepalive.server.port=0");

	@Test
	void backsOffWithoutServices() {
		this.runner.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(KeepAliveGrpcServer.class));
	}

	@Test
	void servesBindableServiceAndPublishesLocalPort() {
		this.runner.withBean(TestService.class).run((context) -> {
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			assertThat(server.isRunning()).isTrue();
			assertThat(server.getPort()).isPositive();
			assertThat(context.getEnvironment().getProperty(KeepAliveGrpcServer.LOCAL_PORT_PROPERTY, Integer.class))
				.isEqualTo(server.getPort());
			assertThat(echo(server.getPort(), "ping")).isEqualTo("ping");
		});
	}

	@Test
	void keepsJvmAliveWhileRunning() {
		Thread[] awaiter = new Thread[1];
		this.runner.withBean(TestService.class).run((context) -> {
			int port = context.getBean(KeepAliveGrpcServer.class).getPort();
			awaiter[0] = Thread.getAllStackTraces()
				.keySet()
				.stream()
				.filter((thread) -> thread.getName().equals("grpc-server-await-" + port))
				.findFirst()
				.orElseThrow();
			assertThat(awaiter[0].isDaemon()).isFalse();
		});
		await().atMost(Duration.ofSeconds(5)).until(() -> !awaiter[0].isAlive());
	}

	@Test
	void servesServerServiceDefinitionBeans() {
		this.runner.withBean(ServerServiceDefinition.class, () -> new TestService().bindService()).run((context) -> {
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			assertThat(server.getServer().getServices()).hasSize(1);
			assertThat(echo(server.getPort(), "definition")).isEqualTo("definition");
		});
	}

	@Test
	void backsOffWhenDisabled() {
		this.runner.withBean(TestService.class)
			.withPropertyValues("grpc.keepalive.server.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(KeepAliveGrpcServer.class));
	}

	@Test
	void backsOffForApplicationDefinedServer() {
		Server own = ServerBuilder.forPort(0).build();
		this.runner.withBean(TestService.class)
			.withBean("ownServer", KeepAliveGrpcServer.class, () -> new KeepAliveGrpcServer(own, 0, Duration.ZERO, null,
					KeepAliveSettings.resolve(new GrpcKeepAliveProperties()).server(),
					ConnectionTracker.create(Side.SERVER, "server", null, null), null))
			.run((context) -> {
				assertThat(context).hasSingleBean(KeepAliveGrpcServer.class);
				assertThat(context.getBean(KeepAliveGrpcServer.class).getServer()).isSameAs(own);
			});
	}

	@Test
	void customizersRunInOrder() {
		List<String> calls = new CopyOnWriteArrayList<>();
		this.runner.withBean(TestService.class)
			.withBean("second", ServerBuilderCustomizer.class, () -> new RecordingCustomizer2(calls))
			.withBean("first", ServerBuilderCustomizer.class, () -> new RecordingCustomizer1(calls))
			.run((context) -> assertThat(calls).containsExactly("first", "second"));
	}

	@Test
	void customizersRunAfterPropertiesAndOverrideThem() throws Exception {
		// max-connection-idle=1h from properties, 1s from the customizer: the customizer wins, which the
		// server's GOAWAY max_idle shows as an event (the other way round, proving that nothing happens
		// would take a sleep)
		ServerBuilderCustomizer tightenIdle = (builder) -> builder.maxConnectionIdle(1, TimeUnit.SECONDS);
		this.runner.withBean(TestService.class)
			.withBean(ServerBuilderCustomizer.class, () -> tightenIdle)
			.withPropertyValues("grpc.keepalive.server.max-connection-idle=1h")
			.run((context) -> {
				try (SniffingTcpProxy proxy = new SniffingTcpProxy(context.getBean(KeepAliveGrpcServer.class).getPort())) {
					ManagedChannel channel = NettyChannelBuilder.forTarget(proxy.target()).usePlaintext().build();
					try {
						TestServiceGrpc.newBlockingStub(channel).echo(EchoRequest.newBuilder().build());
						await().atMost(Duration.ofSeconds(30))
							.until(() -> !proxy.frames().goAways(Direction.SERVER_TO_CLIENT).isEmpty());
						assertThat(proxy.frames().goAways(Direction.SERVER_TO_CLIENT))
							.anySatisfy((goAway) -> assertThat(goAway.debugData()).isEqualTo("max_idle"));
					}
					finally {
						channel.shutdownNow();
					}
				}
			});
	}

	@Test
	void portInUseFailsStartupWithAnalysis() throws IOException {
		try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			this.runner.withBean(TestService.class)
				.withPropertyValues("grpc.keepalive.server.port=" + taken.getLocalPort(),
						"grpc.keepalive.server.address=127.0.0.1")
				.run((context) -> {
					assertThat(context).hasFailed();
					FailureAnalysis analysis = new GrpcServerPortInUseFailureAnalyzer()
						.analyze(context.getStartupFailure());
					assertThat(analysis.getDescription()).contains("port " + taken.getLocalPort() + " is already in use");
					assertThat(analysis.getAction()).contains("grpc.keepalive.server.port");
				});
		}
	}

	@Test
	void shutdownLetsCallsFinishWithinGraceThenClosesTheRestAsUnavailable() throws Exception {
		ApplicationContextRunner graceful = this.runner.withBean(TestService.class)
			// a grace of 5s for a call of 1s: room for a loaded machine to run it late, still well short of the
			// 30s stream that must be cut
			.withPropertyValues("grpc.keepalive.server.shutdown-grace=5s");
		RecordingObserver<EchoReply> shortCall = new RecordingObserver<>();
		RecordingObserver<StreamReply> longStream = new RecordingObserver<>();
		long[] closeStartedAndEnded = new long[2];
		ManagedChannel[] channel = new ManagedChannel[1];
		graceful.run((context) -> {
			channel[0] = NettyChannelBuilder.forAddress("127.0.0.1", context.getBean(KeepAliveGrpcServer.class).getPort())
				.usePlaintext()
				.build();
			TestServiceGrpc.TestServiceStub stub = TestServiceGrpc.newStub(channel[0]);
			stub.echo(EchoRequest.newBuilder().setDelayMillis(1000).build(), shortCall);
			stub.stream(StreamRequest.newBuilder().setHoldMillis(30_000).build(), longStream);
			TestService service = context.getBean(TestService.class);
			await().atMost(Duration.ofSeconds(30)).until(() -> service.callsStarted.get() == 2);
			closeStartedAndEnded[0] = System.nanoTime();
			closeNow(context);
			closeStartedAndEnded[1] = System.nanoTime();
		});
		try {
			assertThat(shortCall.awaitStatus(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.OK);
			// closed by the starter before grpc-java's shutdownNow, whose stream reset would say CANCELLED
			Status closed = longStream.awaitStatus(Duration.ofSeconds(10));
			assertThat(closed.getCode()).as(closed.toString()).isEqualTo(Status.Code.UNAVAILABLE);
			assertThat(closed.getDescription()).contains("grpc.keepalive.server.shutdown-grace=5000ms");
			// the whole grace, then the cut: never the stream's 30s
			assertThat(Duration.ofNanos(closeStartedAndEnded[1] - closeStartedAndEnded[0]))
				.isBetween(Duration.ofMillis(4900), Duration.ofSeconds(15));
		}
		finally {
			channel[0].shutdownNow();
		}
	}

	private static void closeNow(AssertableApplicationContext context) {
		context.close();
	}

	private static String echo(int port, String text) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			return TestServiceGrpc.newBlockingStub(channel)
				// only a bound on a hang: connecting alone took 4s on a loaded machine
				.withDeadlineAfter(30, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText(text).build())
				.getText();
		}
		finally {
			channel.shutdownNow();
		}
	}

	@Order(1)
	record RecordingCustomizer1(List<String> calls) implements ServerBuilderCustomizer {
		@Override
		public void customize(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder builder) {
			this.calls.add("first");
		}
	}

	@Order(2)
	record RecordingCustomizer2(List<String> calls) implements ServerBuilderCustomizer {
		@Override
		public void customize(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder builder) {
			this.calls.add("second");
		}
	}

}
