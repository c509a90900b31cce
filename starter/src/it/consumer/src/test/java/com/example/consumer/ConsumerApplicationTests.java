package com.example.consumer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import com.example.consumer.proto.GreeterGrpc;
import com.example.consumer.proto.HelloReply;
import com.example.consumer.proto.HelloRequest;
import dev.grpckeepalive.server.LocalGrpcPort;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application as a user builds it on the starter: its server, on port 0 as tests run it, its
 * channel from application.yml pointed at that port, the starter's actuator endpoint and health,
 * and the gRPC health and reflection services its clients and tools call.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "grpc.keepalive.server.port=0",
				// the channel is built on its first call, once the server has published the port it bound
				"grpc.keepalive.client.channels.greeter.target=localhost:${local.grpc.port}",
				"grpc.keepalive.server.reflection.enabled=true" })
class ConsumerApplicationTests {

	@Autowired
	@Qualifier("greeter")
	private ManagedChannel greeter;

	@LocalGrpcPort
	private int grpcPort;

	@Value("${local.server.port}")
	private int httpPort;

	@Test
	void callsItsOwnServerThroughTheConfiguredChannel() throws Exception {
		HelloReply reply = GreeterGrpc.newBlockingStub(this.greeter)
			.withDeadlineAfter(10, TimeUnit.SECONDS)
			.sayHello(HelloRequest.newBuilder().setName("starter").build());
		assertThat(reply.getMessage()).isEqualTo("Hello, starter");

		DocumentContext summary = get("/actuator/grpckeepalive");
		assertThat(summary.read("$.server.port", Integer.class)).isEqualTo(this.grpcPort);
		assertThat(summary.read("$.server.settings.permitTime.effective", String.class)).isEqualTo("20s");
		assertThat(summary.read("$.server.connections.active", Integer.class)).isPositive();
		assertThat(summary.read("$.channels.greeter.target", String.class)).isEqualTo("localhost:${local.grpc.port}");
		assertThat(summary.read("$.channels.greeter.state", String.class)).isEqualTo("READY");
		assertThat(summary.read("$.channels.greeter.settings.time.effective", String.class)).isEqualTo("30s");

		List<Map<String, Object>> connections = get("/actuator/grpckeepalive/connections").read("$");
		assertThat(connections).isNotEmpty()
			.anySatisfy((connection) -> assertThat((Integer) connection.get("totalCalls")).isPositive());

		DocumentContext health = get("/actuator/health/grpcKeepalive");
		assertThat(health.read("$.status", String.class)).isEqualTo("UP");
		assertThat(health.read("$.components.greeter.status", String.class)).isEqualTo("UP");
		assertThat(health.read("$.components.server.status", String.class)).isEqualTo("UP");
	}

	@Test
	void answersGrpcHealthChecks() {
		HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(this.greeter)
			.withDeadlineAfter(10, TimeUnit.SECONDS);
		assertThat(health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
			.isEqualTo(ServingStatus.SERVING);
		assertThat(health.check(HealthCheckRequest.newBuilder().setService(GreeterGrpc.SERVICE_NAME).build())
			.getStatus()).isEqualTo(ServingStatus.SERVING);
	}

	@Test
	void listsItsServicesThroughReflection() throws Exception {
		CompletableFuture<List<String>> services = new CompletableFuture<>();
		StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(this.greeter)
			.withDeadlineAfter(10, TimeUnit.SECONDS)
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
				}

			});
		requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
		assertThat(services.get(10, TimeUnit.SECONDS)).contains(GreeterGrpc.SERVICE_NAME, HealthGrpc.SERVICE_NAME);
		requests.onCompleted();
	}

	private DocumentContext get(String path) throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.httpPort + path)).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
		return JsonPath.parse(response.body());
	}

}
