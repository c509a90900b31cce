package dev.grpckeepalive.server;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The server owns its Netty event loops while it runs, and only with the frame observer.
 * Isolated: it counts threads by name, which other tests' servers would also create.
 */
@Isolated
class EventLoopOwnershipTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class))
		.withBean(TestService.class)
		.withPropertyValues("grpc.keepalive.server.port=0");

	@Test
	void eventLoopsLiveExactlyAsLongAsTheServer() {
		this.runner.run((context) -> assertThat(threadsNamed("grpc-keepalive-server")).isPositive());
		await().atMost(Duration.ofSeconds(10)).until(() -> threadsNamed("grpc-keepalive-server") == 0);
	}

	@Test
	void withoutFrameObserverGrpcJavaKeepsItsOwnEventLoops() {
		this.runner.withPropertyValues("grpc.keepalive.frames.enabled=false").run((context) -> {
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			assertThat(server.getConnections().isFramesObserved()).isFalse();
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
			try {
				assertThat(TestServiceGrpc.newBlockingStub(channel)
					.withDeadlineAfter(5, TimeUnit.SECONDS)
					.echo(EchoRequest.newBuilder().setText("plain").build())
					.getText()).isEqualTo("plain");
			}
			finally {
				channel.shutdownNow();
			}
			assertThat(threadsNamed("grpc-keepalive-server")).isZero();
		});
	}

	private static long threadsNamed(String prefix) {
		return Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter((thread) -> thread.getName().startsWith(prefix) && thread.isAlive())
			.count();
	}

}
