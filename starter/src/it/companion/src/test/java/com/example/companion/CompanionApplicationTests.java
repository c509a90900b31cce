package com.example.companion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.companion.proto.GreeterGrpc;
import com.example.companion.proto.HelloRequest;
import com.example.legacy.UnshadedCustomizerConfiguration;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.client.GrpcChannelFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * The application as a user of Spring Boot's gRPC starters has it once this starter is
 * added: no second server, this starter's options and tracking on Spring Boot's server and
 * channels, the application's shaded customizer applied, in-process calls untouched; and an
 * unshaded customizer, which Spring Boot would skip, refused at startup with a report.
 */
@ExtendWith(OutputCaptureExtension.class)
class CompanionApplicationTests {

	@Test
	void runsBesideSpringBootsGrpc(CapturedOutput output) throws Exception {
		int grpcPort = freePort();
		// arguments, as a deployment would pass them: they win over application.yml, default properties do not
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(CompanionApplication.class)
			.run("--server.port=0", "--spring.grpc.server.port=" + grpcPort)) {
			assertThat(app.getBeanNamesForType(dev.grpckeepalive.server.KeepAliveGrpcServer.class)).isEmpty();
			assertThat(CompanionApplication.CUSTOMIZED).hasPositiveValue();
			GrpcChannelFactory channels = app.getBean(GrpcChannelFactory.class);

			ManagedChannel self = channels.createChannel("self");
			ManagedChannel inProcess = channels.createChannel("in-process:companion");
			try {
				assertThat(hello(self, "network")).isEqualTo("Hello, network");
				assertThat(hello(inProcess, "in-process")).isEqualTo("Hello, in-process");

				DocumentContext summary = get(app, "/actuator/grpckeepalive");
				assertThat(summary.read("$.server.port", Integer.class)).isEqualTo(grpcPort);
				// this starter's server option wins over Spring Boot's server option
				assertThat(summary.read("$.server.settings.permitTime.effective", String.class)).isEqualTo("20s");
				assertThat(summary.read("$.server.connections.active", Integer.class)).isEqualTo(1);
				// the channel's own keepalive time wins over grpc.keepalive.client.defaults.time
				assertThat(summary.read("$.channels.self.settings.time.effective", String.class)).isEqualTo("45s");
				assertThat(summary.read("$.channels.self.connections.active", Integer.class)).isEqualTo(1);
				// the in-process channel is Spring Boot's alone: no transport, nothing to track
				assertThat(summary.read("$.channels.length()", Integer.class)).isEqualTo(1);
			}
			finally {
				self.shutdownNow();
				inProcess.shutdownNow();
			}
			assertThat(output).contains("HTTP/2 abuse limits on Spring Boot's gRPC server: "
					+ "grpc.keepalive.server.limits.max-concurrent-calls-per-connection=100");
		}
	}

	@Test
	void unshadedCustomizerIsRefusedWithAReport(CapturedOutput output) {
		assertThatException().isThrownBy(() -> new SpringApplicationBuilder(CompanionApplication.class,
				UnshadedCustomizerConfiguration.class)
			.run("--server.port=0", "--spring.grpc.server.port=0"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("- bean 'legacyFlowControl' (@Bean " + UnshadedCustomizerConfiguration.class.getName()
					+ ".legacyFlowControl()): ServerBuilderCustomizer<io.grpc.netty.NettyServerBuilder>")
			.contains("Type each customizer on grpc-netty-shaded's builder");
	}

	private static String hello(ManagedChannel channel, String name) {
		return GreeterGrpc.newBlockingStub(channel)
			.withDeadlineAfter(10, TimeUnit.SECONDS)
			.sayHello(HelloRequest.newBuilder().setName(name).build())
			.getMessage();
	}

	private static DocumentContext get(ConfigurableApplicationContext app, String path) throws Exception {
		int port = app.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		return JsonPath.parse(response.body());
	}

	/** A port the server can bind; the channel's target names it before the server has bound. */
	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket()) {
			socket.setReuseAddress(false);
			socket.bind(new InetSocketAddress(0));
			return socket.getLocalPort();
		}
	}

}
