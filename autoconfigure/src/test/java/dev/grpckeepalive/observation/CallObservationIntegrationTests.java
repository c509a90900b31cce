package dev.grpckeepalive.observation;

import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Real calls through the starter's server and channels produce Micrometer's grpc.server and grpc.client timers. */
class CallObservationIntegrationTests {

	@Test
	void aServedCallIsObservedAsGrpcServer() {
		observed().run((context) -> {
			echo(context.getBean(KeepAliveGrpcServer.class).getPort());
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			await().atMost(java.time.Duration.ofSeconds(30))
				.untilAsserted(() -> assertThat(meters.find("grpc.server")
					.tag("rpc.method", "Echo")
					.tag("grpc.status_code", "OK")
					.timer()).isNotNull());
			Timer timer = meters.get("grpc.server").tag("rpc.method", "Echo").timer();
			assertThat(timer.count()).isEqualTo(1);
		});
	}

	@Test
	void aCallOnAChannelIsObservedAsGrpcClient() throws Exception {
		TestService service = new TestService();
		Server upstream = NettyServerBuilder.forPort(0).addService(service).build().start();
		try {
			observed().withPropertyValues("grpc.keepalive.server.enabled=false",
					"grpc.keepalive.client.channels.upstream.target=127.0.0.1:" + upstream.getPort())
				.run((context) -> {
					TestServiceGrpc.newBlockingStub(context.getBean(GrpcChannels.class).get("upstream"))
						.withDeadlineAfter(30, TimeUnit.SECONDS)
						.echo(EchoRequest.newBuilder().setText("x").build());
					MeterRegistry meters = context.getBean(MeterRegistry.class);
					await().atMost(java.time.Duration.ofSeconds(30))
						.untilAsserted(() -> assertThat(meters.find("grpc.client")
							.tag("rpc.method", "Echo")
							.tag("grpc.status_code", "OK")
							.timer()).isNotNull());
				});
		}
		finally {
			upstream.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
			service.close();
		}
	}

	@Test
	void offWithTheProperties() {
		observed().withPropertyValues("grpc.keepalive.server.observation.enabled=false",
				"grpc.keepalive.client.observation.enabled=false")
			.run((context) -> {
				assertThat(context).doesNotHaveBean(
						io.micrometer.core.instrument.binder.grpc.ObservationGrpcServerInterceptor.class);
				assertThat(context).doesNotHaveBean(
						io.micrometer.core.instrument.binder.grpc.ObservationGrpcClientInterceptor.class);
			});
	}

	@Test
	void absentWithoutAnObservationRegistry() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
					GrpcKeepAliveServerAutoConfiguration.class, GrpcObservationAutoConfiguration.class))
			.withPropertyValues("grpc.keepalive.server.port=0")
			.withBean(TestService.class)
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(io.micrometer.core.instrument.binder.grpc.ObservationGrpcServerInterceptor.class));
	}

	private ApplicationContextRunner observed() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
					GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class,
					GrpcObservationAutoConfiguration.class))
			.withPropertyValues("grpc.keepalive.server.port=0")
			.withBean(TestService.class)
			.withUserConfiguration(Observability.class);
	}

	/** What Spring Boot's observation and metrics auto-configurations set up: observations recorded as timers. */
	@Configuration(proxyBeanMethods = false)
	static class Observability {

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

		@Bean
		ObservationRegistry observationRegistry(MeterRegistry meters) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
			return registry;
		}

	}

	private static void echo(int port) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			TestServiceGrpc.newBlockingStub(channel)
				.withDeadlineAfter(30, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("x").build());
		}
		finally {
			channel.shutdownNow();
		}
	}

}
