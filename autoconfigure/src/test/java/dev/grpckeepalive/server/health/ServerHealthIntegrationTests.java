package dev.grpckeepalive.server.health;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.GrpcServerListener;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/** grpc.health.v1 on the starter's own server, called by real grpc-java health clients. */
class ServerHealthIntegrationTests {

	private static final String TEST_SERVICE = TestServiceGrpc.SERVICE_NAME;

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcHealthAutoConfiguration.class))
		.withPropertyValues("grpc.keepalive.server.port=0")
		.withBean(TestService.class);

	private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();

	@AfterEach
	void closeChannels() {
		this.channels.forEach(ManagedChannel::shutdownNow);
	}

	@Test
	void listsEveryServedServiceAndTheOverallStatus() {
		this.runner.run((context) -> {
			HealthGrpc.HealthBlockingStub health = health(context.getBean(KeepAliveGrpcServer.class).getPort());
			assertThat(check(health, "")).isEqualTo(ServingStatus.SERVING);
			assertThat(check(health, TEST_SERVICE)).isEqualTo(ServingStatus.SERVING);
			assertThatExceptionOfType(StatusRuntimeException.class).isThrownBy(() -> check(health, "no.Such"))
				.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
		});
	}

	@Test
	void followsTheApplicationsReadiness() {
		this.runner.withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class))
			.run((context) -> {
				HealthGrpc.HealthBlockingStub health = health(context.getBean(KeepAliveGrpcServer.class).getPort());
				// Spring Boot's availability says REFUSING_TRAFFIC until the application has started
				assertThat(check(health, "")).isEqualTo(ServingStatus.NOT_SERVING);
				AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
				assertThat(check(health, "")).isEqualTo(ServingStatus.SERVING);
				assertThat(check(health, TEST_SERVICE)).isEqualTo(ServingStatus.SERVING);
				AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC);
				assertThat(check(health, "")).isEqualTo(ServingStatus.NOT_SERVING);
				assertThat(check(health, TEST_SERVICE)).isEqualTo(ServingStatus.NOT_SERVING);
				AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
				assertThat(check(health, TEST_SERVICE)).isEqualTo(ServingStatus.SERVING);
			});
	}

	@Test
	void backsOffWhenTheApplicationServesHealthItself() {
		HealthStatusManager own = new HealthStatusManager();
		own.setStatus("app.Own", ServingStatus.SERVICE_UNKNOWN);
		this.runner.withBean("ownHealth", io.grpc.BindableService.class, own::getHealthService).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(ServerHealth.class).isActive()).isFalse();
			HealthGrpc.HealthBlockingStub health = health(context.getBean(KeepAliveGrpcServer.class).getPort());
			assertThat(check(health, "app.Own")).isEqualTo(ServingStatus.SERVICE_UNKNOWN);
			// the application's manager knows nothing of the test service: the starter's did not take over
			assertThatExceptionOfType(StatusRuntimeException.class).isThrownBy(() -> check(health, TEST_SERVICE));
		});
	}

	@Test
	void offWithTheProperty() {
		this.runner.withPropertyValues("grpc.keepalive.server.health.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(ServerHealth.class);
			HealthGrpc.HealthBlockingStub health = health(context.getBean(KeepAliveGrpcServer.class).getPort());
			assertThatExceptionOfType(StatusRuntimeException.class).isThrownBy(() -> check(health, ""))
				.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
		});
	}

	@Test
	void listenersAreToldBeforeTheGoAwayAndAfterIt() {
		List<String> seen = new CopyOnWriteArrayList<>();
		Server[] server = new Server[1];
		this.runner.withBean(GrpcServerListener.class, () -> new GrpcServerListener() {

			@Override
			public void started(Server started) {
				server[0] = started;
				seen.add("started");
			}

			@Override
			public void shutdownStarting() {
				seen.add("shutdownStarting shutdown=" + server[0].isShutdown());
			}

			@Override
			public void draining() {
				seen.add("draining shutdown=" + server[0].isShutdown());
			}

		}).run((context) -> assertThat(seen).containsExactly("started"));
		assertThat(seen).containsExactly("started", "shutdownStarting shutdown=false", "draining shutdown=true");
	}

	/**
	 * As client-side health checking does, a client watches the server's health while calls are
	 * in flight. On shutdown the watch reads NOT_SERVING, then completes (it does not hold the drain
	 * until the grace runs out, nor fail); the in-flight calls complete; no call fails.
	 */
	@Test
	void watchSeesNotServingThenEndsWithTheDrainWhileInFlightCallsComplete() {
		this.runner.withPropertyValues("grpc.keepalive.server.shutdown-grace=60s").run((context) -> {
			int port = context.getBean(KeepAliveGrpcServer.class).getPort();
			ManagedChannel channel = channel(port);
			WatchRecorder watch = new WatchRecorder();
			HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(), watch);
			await().atMost(Duration.ofSeconds(30)).until(() -> watch.statuses.contains(ServingStatus.SERVING));

			TestService service = context.getBean(TestService.class);
			int started = service.callsStarted.get();
			CompletableFuture<EchoReply> echo = CompletableFuture.supplyAsync(() -> TestServiceGrpc
				.newBlockingStub(channel)
				.withDeadlineAfter(60, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("in flight").setDelayMillis(2_000).build()));
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			TestServiceGrpc.newStub(channel)
				.stream(StreamRequest.newBuilder().setCount(3).setIntervalMillis(500).build(), stream);
			await().atMost(Duration.ofSeconds(30)).until(() -> service.callsStarted.get() == started + 2);

			long closeStarted = System.nanoTime();
			CompletableFuture<Void> closed = CompletableFuture.runAsync(context::close);

			assertThat(watch.awaitStatus()).isEqualTo(Status.Code.OK);
			assertThat(watch.statuses).containsExactly(ServingStatus.SERVING, ServingStatus.NOT_SERVING);
			assertThat(echo.get(30, TimeUnit.SECONDS).getText()).isEqualTo("in flight");
			assertThat(stream.awaitStatus(Duration.ofSeconds(30)).getCode()).isEqualTo(Status.Code.OK);
			assertThat(stream.messages()).isEqualTo(3);
			closed.get(30, TimeUnit.SECONDS);
			// the drain ended with the in-flight calls, not with the 60 s grace the watch would otherwise have held
			assertThat(Duration.ofNanos(System.nanoTime() - closeStarted)).isLessThan(Duration.ofSeconds(30));
			assertThat(service.cancellations).isEmpty();
		});
	}

	private ManagedChannel channel(int port) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		this.channels.add(channel);
		return channel;
	}

	private HealthGrpc.HealthBlockingStub health(int port) {
		return HealthGrpc.newBlockingStub(channel(port)).withDeadlineAfter(30, TimeUnit.SECONDS);
	}

	private static ServingStatus check(HealthGrpc.HealthBlockingStub health, String service) {
		return health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
	}

	/** A Watch's answers, in order, and how it ended. */
	private static final class WatchRecorder implements StreamObserver<HealthCheckResponse> {

		final List<ServingStatus> statuses = new CopyOnWriteArrayList<>();

		final CompletableFuture<Status.Code> end = new CompletableFuture<>();

		@Override
		public void onNext(HealthCheckResponse value) {
			this.statuses.add(value.getStatus());
		}

		@Override
		public void onError(Throwable error) {
			this.end.complete(Status.fromThrowable(error).getCode());
		}

		@Override
		public void onCompleted() {
			this.end.complete(Status.Code.OK);
		}

		Status.Code awaitStatus() throws Exception {
			return this.end.get(30, TimeUnit.SECONDS);
		}

	}

}
