package dev.grpckeepalive.server;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** GrpcExceptionHandler beans turn what a service throws into the status its client gets, over real calls. */
class ExceptionHandlerIntegrationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class))
		.withPropertyValues("grpc.keepalive.server.port=0")
		.withBean(ThrowingService.class);

	@Test
	void aMappedExceptionClosesTheCallWithItsStatus() {
		this.runner
			.withBean("illegalArgument", GrpcExceptionHandler.class,
					() -> (ex) -> (ex instanceof IllegalArgumentException)
							? Status.INVALID_ARGUMENT.withDescription(ex.getMessage()) : null)
			.run((context) -> {
				KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
				assertThat(statusOf(server.getPort(), "illegal")).satisfies((status) -> {
					assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
					assertThat(status.getDescription()).isEqualTo("bad text: illegal");
				});
				// not this handler's: grpc-java's UNKNOWN, as without handlers
				assertThat(statusOf(server.getPort(), "state").getCode()).isEqualTo(Status.Code.UNKNOWN);
				assertThat(statusOf(server.getPort(), "fine").getCode()).isEqualTo(Status.Code.OK);
				// the starter's call counting saw each call end (grpc-java reports the end after the client has it)
				await().atMost(Duration.ofSeconds(30)).until(() -> server.getConnections().activeCalls() == 0);
			});
	}

	@Test
	void withoutHandlersAnExceptionIsUnknown() {
		this.runner.run((context) -> assertThat(
				statusOf(context.getBean(KeepAliveGrpcServer.class).getPort(), "illegal").getCode())
			.isEqualTo(Status.Code.UNKNOWN));
	}

	private static Status statusOf(int port, String text) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			TestServiceGrpc.newBlockingStub(channel)
				.withDeadlineAfter(30, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText(text).build());
			return Status.OK;
		}
		catch (StatusRuntimeException ex) {
			return ex.getStatus();
		}
		finally {
			channel.shutdownNow();
		}
	}

	static class ThrowingService extends TestServiceGrpc.TestServiceImplBase {

		@Override
		public void echo(EchoRequest request, StreamObserver<EchoReply> responseObserver) {
			switch (request.getText()) {
				case "illegal" -> throw new IllegalArgumentException("bad text: illegal");
				case "state" -> throw new IllegalStateException("not now");
				default -> {
					responseObserver.onNext(EchoReply.newBuilder().setText(request.getText()).build());
					responseObserver.onCompleted();
				}
			}
		}

	}

}
