package com.example.consumer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import com.example.consumer.proto.GreeterGrpc;
import com.example.consumer.proto.HelloReply;
import com.example.consumer.proto.HelloRequest;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application as a user builds it on the starter: its server, its channel from
 * application.yml, and the starter's actuator endpoint and health.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ConsumerApplicationTests {

	/**
	 * A free port for the gRPC server. Not port 0: the channel's target is read when the
	 * channel is built, before the server has bound and published local.grpc.port.
	 */
	@DynamicPropertySource
	static void grpcPort(DynamicPropertyRegistry registry) throws IOException {
		// a port the server can bind on all interfaces without SO_REUSEADDR: a loopback probe with
		// it (Java's default) misses ports that connections in TIME_WAIT still hold
		try (ServerSocket socket = new ServerSocket()) {
			socket.setReuseAddress(false);
			socket.bind(new InetSocketAddress(0));
			int port = socket.getLocalPort();
			registry.add("grpc.keepalive.server.port", () -> port);
		}
	}

	@Autowired
	@Qualifier("greeter")
	private ManagedChannel greeter;

	@Value("${local.grpc.port}")
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
		assertThat(summary.read("$.channels.greeter.target", String.class)).isEqualTo("localhost:" + this.grpcPort);
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

	private DocumentContext get(String path) throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.httpPort + path)).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
		return JsonPath.parse(response.body());
	}

}
