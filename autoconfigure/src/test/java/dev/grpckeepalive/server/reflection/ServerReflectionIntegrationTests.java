package dev.grpckeepalive.server.reflection;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.health.GrpcHealthAutoConfiguration;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** Server reflection, opt-in, asked by a real grpc.reflection.v1 client as grpcurl asks it. */
class ServerReflectionIntegrationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcHealthAutoConfiguration.class,
				GrpcReflectionAutoConfiguration.class))
		.withPropertyValues("grpc.keepalive.server.port=0")
		.withBean(TestService.class);

	@Test
	void listsTheServedServicesWhenEnabled() {
		this.runner.withPropertyValues("grpc.keepalive.server.reflection.enabled=true").run((context) -> {
			assertThat(listServices(context.getBean(KeepAliveGrpcServer.class).getPort())).containsExactlyInAnyOrder(
					TestServiceGrpc.SERVICE_NAME, HealthGrpc.SERVICE_NAME, ServerReflectionGrpc.SERVICE_NAME);
		});
	}

	@Test
	void offByDefault() {
		this.runner.run((context) -> {
			assertThat(context).doesNotHaveBean("grpcKeepAliveReflection");
			assertThat(context.getBean(KeepAliveGrpcServer.class).getServer().getServices())
				.noneSatisfy((service) -> assertThat(service.getServiceDescriptor().getName())
					.isEqualTo(ServerReflectionGrpc.SERVICE_NAME));
		});
	}

	private static List<String> listServices(int port) throws Exception {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			CompletableFuture<List<String>> services = new CompletableFuture<>();
			StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
				.withDeadlineAfter(30, TimeUnit.SECONDS)
				.serverReflectionInfo(new StreamObserver<>() {

					@Override
					public void onNext(ServerReflectionResponse response) {
						services.complete(response.getListServicesResponse()
							.getServiceList()
							.stream()
							.map(ServiceResponse::getName)
							.toList());
					}

					@Override
					public void onError(Throwable error) {
						services.completeExceptionally(error);
					}

					@Override
					public void onCompleted() {
						services.completeExceptionally(Status.INTERNAL.withDescription("no answer").asException());
					}

				});
			requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
			List<String> names = services.get(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
			requests.onCompleted();
			return names;
		}
		finally {
			channel.shutdownNow();
		}
	}

}
