package dev.grpckeepalive.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** ServerInterceptor beans on the starter's server: in @Order, with the starter's call counting kept outermost. */
class ServerInterceptorBeansIntegrationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class))
		.withPropertyValues("grpc.keepalive.server.port=0")
		.withBean(TestService.class);

	@Test
	void interceptorBeansRunInOrderOnEveryCall() {
		this.runner.withUserConfiguration(OrderedInterceptors.class).run((context) -> {
			List<String> seen = context.getBean(OrderedInterceptors.class).seen;
			echo(context.getBean(KeepAliveGrpcServer.class).getPort(), "");
			assertThat(seen).containsExactly("first", "second", "third");
		});
	}

	@Test
	void callsAnInterceptorRefusesAreStillCountedByTheStarter() {
		ServerInterceptor refuse = new ServerInterceptor() {

			@Override
			public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
					ServerCallHandler<Q, R> next) {
				call.close(Status.PERMISSION_DENIED.withDescription("refused by the application"), new Metadata());
				return new ServerCall.Listener<>() {
				};
			}

		};
		this.runner.withBean(ServerInterceptor.class, () -> refuse).run((context) -> {
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			// the channel stays open while the connection is read: closed, it would leave the open connections
			ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
			try {
				assertThatExceptionOfType(StatusRuntimeException.class)
					.isThrownBy(() -> TestServiceGrpc.newBlockingStub(channel)
						.withDeadlineAfter(30, TimeUnit.SECONDS)
						.echo(EchoRequest.newBuilder().setText("x").build()))
					.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
				assertThat(server.getConnections().openConnections()).extracting(ConnectionSnapshot::totalCalls)
					.containsExactly(1L);
			}
			finally {
				channel.shutdownNow();
			}
		});
	}

	private static void echo(int port, String status) {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
		try {
			TestServiceGrpc.newBlockingStub(channel)
				.withDeadlineAfter(30, TimeUnit.SECONDS)
				.echo(EchoRequest.newBuilder().setText("x").setStatus(status).build());
		}
		finally {
			channel.shutdownNow();
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class OrderedInterceptors {

		final List<String> seen = new CopyOnWriteArrayList<>();

		// declared out of order: @Order decides, not the declaration
		@Bean
		@Order(3)
		ServerInterceptor third() {
			return recording("third");
		}

		@Bean
		@Order(1)
		ServerInterceptor first() {
			return recording("first");
		}

		@Bean
		@Order(2)
		ServerInterceptor second() {
			return recording("second");
		}

		private ServerInterceptor recording(String name) {
			return new ServerInterceptor() {

				@Override
				public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
						ServerCallHandler<Q, R> next) {
					OrderedInterceptors.this.seen.add(name);
					return next.startCall(call, headers);
				}

			};
		}

	}

}
