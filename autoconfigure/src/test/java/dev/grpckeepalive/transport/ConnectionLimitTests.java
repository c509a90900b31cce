package dev.grpckeepalive.transport;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.TestService;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * {@link ConnectionLimit} on a real grpc-java server and real sockets: connections over the
 * cap are reset at accept, before grpc-java sees them, and a slot frees when a connection
 * closes.
 */
class ConnectionLimitTests {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

	private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());

	private final TestService service = new TestService();

	private final List<ManagedChannel> channels = new ArrayList<>();

	private Server server;

	@AfterEach
	void stop() throws InterruptedException {
		this.channels.forEach(ManagedChannel::shutdownNow);
		if (this.server != null) {
			this.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
		}
		this.boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
		this.workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
		this.service.close();
	}

	@Test
	void connectionsOverTheCapAreResetAtAcceptAndAFreedSlotIsReused() throws Exception {
		ConnectionLimit limit = new ConnectionLimit(3, "grpc.keepalive.server.limits.max-connections");
		this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
			.bossEventLoopGroup(this.boss)
			.workerEventLoopGroup(this.workers)
			.channelFactory(limit.wrap(NioServerSocketChannel::new))
			.addService(this.service)
			.build()
			.start();
		for (int i = 0; i < 3; i++) {
			assertThat(echo(channel()).getText()).isEqualTo("hello");
		}
		assertThat(limit.openConnections()).isEqualTo(3);

		// the kernel completes the TCP handshake; the server resets the socket as soon as it accepts it
		long start = System.nanoTime();
		try (Socket fourth = new Socket(InetAddress.getLoopbackAddress(), this.server.getPort())) {
			fourth.setSoTimeout(5000);
			assertThat(readUntilClosed(fourth.getInputStream())).isEqualTo("reset");
		}
		Duration refusedAfter = Duration.ofNanos(System.nanoTime() - start);
		assertThat(refusedAfter).isLessThan(Duration.ofSeconds(2));
		assertThat(limit.refusedConnections()).isEqualTo(1);

		// a grpc-java client over the cap fails fast with UNAVAILABLE instead of hanging
		ManagedChannel over = channel();
		assertThatExceptionOfType(StatusRuntimeException.class).isThrownBy(() -> echo(over))
			.satisfies((ex) -> assertThat(ex.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
		assertThat(limit.refusedConnections()).isGreaterThanOrEqualTo(2);
		assertThat(limit.openConnections()).isEqualTo(3);
		assertThat(this.service.callsStarted.get()).isEqualTo(3);
		// it would keep reconnecting with backoff, and could take the slot freed below first
		over.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

		// one closes: its slot is free again
		this.channels.get(0).shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(5)).until(() -> limit.openConnections() == 2);
		assertThat(echo(channel()).getText()).isEqualTo("hello");
		assertThat(limit.openConnections()).isEqualTo(3);
		System.out.println("[connection limit] 4th connection reset " + refusedAfter.toMillis()
				+ " ms after connect; refused in all " + limit.refusedConnections());
	}

	@Test
	void rejectsANonPositiveCap() {
		assertThatExceptionOfType(IllegalArgumentException.class).isThrownBy(() -> new ConnectionLimit(0, "p"));
	}

	private ManagedChannel channel() {
		ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", this.server.getPort()).usePlaintext().build();
		this.channels.add(channel);
		return channel;
	}

	private static dev.grpckeepalive.test.proto.EchoReply echo(ManagedChannel channel) {
		// generous: the first calls of a cold JVM on a loaded machine take seconds to connect
		return TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).echo(HELLO);
	}

	private static String readUntilClosed(InputStream in) {
		try {
			return (in.read() == -1) ? "closed" : "data";
		}
		catch (IOException ex) {
			return ex.getMessage().contains("reset") ? "reset" : ex.getMessage();
		}
	}

}
