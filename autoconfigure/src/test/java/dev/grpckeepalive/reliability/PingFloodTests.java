package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.jayway.jsonpath.DocumentContext;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Frame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2PingFrame;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2SettingsFrame;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.netty.shaded.io.netty.util.concurrent.ScheduledFuture;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.RecordingObserver;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.StreamReply;
import dev.grpckeepalive.test.proto.StreamRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliability scenario 4, ping flood: a raw HTTP/2 client built on Netty's HTTP/2 codec (not
 * grpc-java, so no keepalive limit of its own) PINGs the starter's server every 10 ms. The
 * server must answer {@code GOAWAY ENHANCE_YOUR_CALM too_many_pings} and close that
 * connection, while a well-behaved grpc-java client on the same server, with unary calls and
 * a stream in flight, sees no error; the endpoint and the meters must count it.
 */
@Tag("reliability")
class PingFloodTests {

	private static final long ENHANCE_YOUR_CALM = 0xB;

	private static final Duration PING_INTERVAL = Duration.ofMillis(10);

	/** Far more PINGs than the three grpc-java tolerates: the flood stops there even if the server never reacts. */
	private static final int MAX_PINGS = 500;

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	@Test
	void floodingClientGetsTooManyPingsAndWellBehavedClientIsUndisturbed() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.observed();
				ConfigurableApplicationContext client = TestApps.client("127.0.0.1:" + grpcPort(app))) {
			ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
			TestServiceGrpc.TestServiceBlockingStub good = TestApps.blockingStub(client);
			good.echo(HELLO);
			RecordingObserver<StreamReply> stream = new RecordingObserver<>();
			// 40 replies 50 ms apart: the stream runs through the whole flood
			TestApps.asyncStub(client)
				.stream(StreamRequest.newBuilder().setCount(40).setIntervalMillis(50).build(), stream);
			UnaryLoop unary = UnaryLoop.start(good);

			PingFlood flood = PingFlood.start(grpcPort(app), PING_INTERVAL, MAX_PINGS);
			try {
				Http2GoAwayFrameView goAway = flood.goAway().get(10, TimeUnit.SECONDS);
				flood.closed().get(10, TimeUnit.SECONDS);

				assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
				assertThat(goAway.debugData()).isEqualTo("too_many_pings");
				// KeepAliveEnforcer: two strikes tolerated, the third early PING draws the GOAWAY. Counted in
				// what the server read, not in time: Netty acknowledges each PING before grpc-java judges it, so
				// exactly three ACKs precede the GOAWAY on the wire, however slowly a loaded machine runs the
				// server (the flood itself may have written more by then: as many as the server was late)
				assertThat(goAway.acksBefore()).isEqualTo(3);
				assertThat(goAway.pingsSentBefore()).isGreaterThanOrEqualTo(3);
				assertThat(flood.pingsSent()).isLessThan(MAX_PINGS);
				report("pings before GOAWAY=" + goAway.pingsSentBefore() + ", PING ACKs before GOAWAY="
						+ goAway.acksBefore() + ", first PING to GOAWAY=" + goAway.sinceFirstPing().toMillis()
						+ " ms, first PING to close=" + flood.firstPingToClose().toMillis() + " ms, pings sent in all="
						+ flood.pingsSent());
			}
			finally {
				flood.close();
			}

			await().atMost(Duration.ofSeconds(5)).until(() -> server.closedConnections(CloseReason.TOO_MANY_PINGS) == 1);
			// the well-behaved client keeps working during and after the flood: counted in calls, not in time
			// (a loaded machine makes fewer calls in the flood's few milliseconds)
			int callsDuringFlood = unary.calls();
			await().atMost(Duration.ofSeconds(30)).until(() -> unary.calls() >= callsDuringFlood + 5);
			List<Duration> latencies = unary.stopAndAwait(Duration.ofSeconds(10));
			assertThat(unary.failures()).isEmpty();
			assertThat(latencies).hasSizeGreaterThan(5);
			assertThat(stream.awaitStatus(Duration.ofSeconds(15)).getCode()).isEqualTo(Status.Code.OK);
			assertThat(stream.messages()).isEqualTo(40);
			assertThat(good.echo(HELLO).getText()).isEqualTo("hello");
			report("good client: " + latencies.size() + " unary calls, 0 failures, max latency "
					+ latencies.stream().max(Duration::compareTo).orElseThrow().toMillis() + " ms; stream 40/40 OK in "
					+ stream.lifetime().toMillis() + " ms");
			assertThat(server.closedConnections(CloseReason.TOO_MANY_PINGS)).isEqualTo(1);
			assertThat(server.activeConnections()).isEqualTo(1);

			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.connections.closed.too_many_pings", Integer.class)).isEqualTo(1);
			assertThat(summary.read("$.server.connections.closed.error", Integer.class)).isZero();
			assertThat(summary.read("$.server.goaways.sent.too_many_pings", Integer.class)).isPositive();
			assertThat(summary.read("$.server.pings.received", Integer.class)).isGreaterThanOrEqualTo(3);
			List<Map<String, Object>> recent = summary.read("$.server.connections.recentlyClosed");
			assertThat(recent).singleElement()
				.satisfies((closed) -> assertThat(closed).containsEntry("closeReason", "too_many_pings"));
			DocumentContext connection = Http.json(app, "/actuator/grpckeepalive/connections/" + recent.get(0).get("id"));
			assertThat(connection.read("$.state", String.class)).isEqualTo("closed");
			assertThat(connection.read("$.closeReason", String.class)).isEqualTo("too_many_pings");
			assertThat(connection.read("$.goaways.lastSent.errorCode", String.class)).isEqualTo("ENHANCE_YOUR_CALM");
			assertThat(connection.read("$.goaways.lastSent.debugData", String.class)).isEqualTo("too_many_pings");
			assertThat(connection.read("$.pings.received", Integer.class)).isGreaterThanOrEqualTo(3);
			// the good client's connection is open, idle or active, untouched
			List<Map<String, Object>> open = Http.json(app, "/actuator/grpckeepalive/connections").read("$");
			assertThat(open).singleElement().satisfies((good1) -> assertThat(good1.get("closeReason")).isNull());

			MeterRegistry registry = app.getBean(MeterRegistry.class);
			assertThat(registry.get("grpc.keepalive.connections.closed")
				.tags("channel", "server", "reason", "too_many_pings")
				.functionCounter()
				.count()).isEqualTo(1.0);
			double goAwaysSent = registry.get("grpc.keepalive.goaways")
				.tags("channel", "server", "direction", "sent", "reason", "too_many_pings")
				.functionCounter()
				.count();
			assertThat(goAwaysSent)
				.isEqualTo(summary.read("$.server.goaways.sent.too_many_pings", Integer.class).doubleValue());
			assertThat(registry.get("grpc.keepalive.pings.received").tag("channel", "server").functionCounter().count())
				.isGreaterThanOrEqualTo(3);
			assertThat(registry.get("grpc.keepalive.connection.lifetime")
				.tags("channel", "server", "reason", "too_many_pings")
				.timer()
				.count()).isEqualTo(1);
			report("server: closed.too_many_pings=1, goaways.sent.too_many_pings="
					+ (long) goAwaysSent + ", pings.received=" + summary.read("$.server.pings.received", Integer.class)
					+ ", closed.error=0");
		}
	}

	/** The figures docs/reliability.md quotes, in the test output. */
	private static void report(String figures) {
		System.out.println("[scenario 4, ping flood] " + figures);
	}

	private static int grpcPort(ConfigurableApplicationContext app) {
		return app.getBean(KeepAliveGrpcServer.class).getPort();
	}

	/** A GOAWAY as the raw client received it, with how many PINGs it had sent by then. */
	record Http2GoAwayFrameView(long errorCode, String debugData, int pingsSentBefore, int acksBefore,
			Duration sinceFirstPing) {
	}

	/**
	 * A raw HTTP/2 client on Netty's frame codec: sends the connection preface and SETTINGS,
	 * then a PING every {@code interval} until GOAWAY, close, or {@code maxPings}.
	 */
	static final class PingFlood implements AutoCloseable {

		private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
				new DefaultThreadFactory("ping-flood", true), NioIoHandler.newFactory());

		private final CompletableFuture<Http2GoAwayFrameView> goAway = new CompletableFuture<>();

		private final CompletableFuture<Void> closed = new CompletableFuture<>();

		private final AtomicInteger pingsSent = new AtomicInteger();

		private final AtomicInteger acks = new AtomicInteger();

		private final AtomicLong firstPingNanos = new AtomicLong();

		private final AtomicLong closedNanos = new AtomicLong();

		private final List<Throwable> errors = new CopyOnWriteArrayList<>();

		private PingFlood() {
		}

		static PingFlood start(int port, Duration interval, int maxPings) throws Exception {
			PingFlood flood = new PingFlood();
			Channel channel = new Bootstrap().group(flood.group)
				.channel(NioSocketChannel.class)
				.handler(new ChannelInitializer<Channel>() {

					@Override
					protected void initChannel(Channel ch) {
						ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), flood.new Pinger(interval, maxPings));
					}

				})
				.connect(new InetSocketAddress("127.0.0.1", port))
				.sync()
				.channel();
			channel.closeFuture().addListener((future) -> {
				flood.closedNanos.set(System.nanoTime());
				flood.closed.complete(null);
			});
			return flood;
		}

		CompletableFuture<Http2GoAwayFrameView> goAway() {
			return this.goAway;
		}

		CompletableFuture<Void> closed() {
			return this.closed;
		}

		int pingsSent() {
			return this.pingsSent.get();
		}

		Duration firstPingToClose() {
			return Duration.ofNanos(this.closedNanos.get() - this.firstPingNanos.get());
		}

		@Override
		public void close() {
			this.group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
			assertThat(this.errors).as("raw client errors").isEmpty();
		}

		/** Starts pinging once the server's SETTINGS arrived; records PING ACKs and the GOAWAY. */
		private final class Pinger extends SimpleChannelInboundHandler<Http2Frame> {

			private final Duration interval;

			private final int maxPings;

			private ScheduledFuture<?> task;

			Pinger(Duration interval, int maxPings) {
				this.interval = interval;
				this.maxPings = maxPings;
			}

			@Override
			protected void channelRead0(ChannelHandlerContext ctx, Http2Frame frame) {
				if (frame instanceof Http2SettingsFrame && this.task == null) {
					PingFlood.this.firstPingNanos.set(System.nanoTime());
					// with a fixed delay, not at a fixed rate: a late timer on a loaded machine sends no catch-up burst
					this.task = ctx.executor().scheduleWithFixedDelay(() -> ping(ctx), 0, this.interval.toNanos(),
							TimeUnit.NANOSECONDS);
				}
				else if (frame instanceof Http2PingFrame ping && ping.ack()) {
					PingFlood.this.acks.incrementAndGet();
				}
				else if (frame instanceof Http2GoAwayFrame received) {
					PingFlood.this.goAway.complete(new Http2GoAwayFrameView(received.errorCode(),
							received.content().toString(StandardCharsets.UTF_8), PingFlood.this.pingsSent.get(),
							PingFlood.this.acks.get(),
							Duration.ofNanos(System.nanoTime() - PingFlood.this.firstPingNanos.get())));
					stop();
				}
			}

			private void ping(ChannelHandlerContext ctx) {
				if (PingFlood.this.pingsSent.get() >= this.maxPings || !ctx.channel().isActive()) {
					stop();
					return;
				}
				ctx.writeAndFlush(new DefaultHttp2PingFrame(PingFlood.this.pingsSent.incrementAndGet()));
			}

			private void stop() {
				if (this.task != null) {
					this.task.cancel(false);
				}
			}

			@Override
			public void channelInactive(ChannelHandlerContext ctx) throws Exception {
				stop();
				PingFlood.this.goAway.completeExceptionally(new AssertionError("closed without GOAWAY"));
				super.channelInactive(ctx);
			}

			@Override
			public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
				// after the GOAWAY the server closes at once; PINGs it had not read yet (a loaded server falls
				// behind the flood) make its kernel answer with RST instead of FIN: a close, not an error
				boolean resetAfterGoAway = PingFlood.this.goAway.isDone() && !PingFlood.this.goAway.isCompletedExceptionally()
						&& cause instanceof IOException;
				if (!resetAfterGoAway) {
					PingFlood.this.errors.add(cause);
				}
				ctx.close();
			}

		}

	}

	/** Unary calls one after the other, each timed, until stopped. */
	static final class UnaryLoop {

		private final List<Duration> latencies = new CopyOnWriteArrayList<>();

		private final List<Status> failures = new CopyOnWriteArrayList<>();

		private volatile boolean stopped;

		private Thread thread;

		static UnaryLoop start(TestServiceGrpc.TestServiceBlockingStub stub) {
			UnaryLoop loop = new UnaryLoop();
			loop.thread = new Thread(() -> {
				// bounded: at most 2000 calls even if nobody stops it
				for (int i = 0; i < 2000 && !loop.stopped; i++) {
					long start = System.nanoTime();
					try {
						stub.withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO);
						loop.latencies.add(Duration.ofNanos(System.nanoTime() - start));
					}
					catch (StatusRuntimeException ex) {
						loop.failures.add(ex.getStatus());
					}
					sleep(Duration.ofMillis(5));
				}
			}, "unary-loop");
			loop.thread.setDaemon(true);
			loop.thread.start();
			return loop;
		}

		List<Duration> stopAndAwait(Duration timeout) throws InterruptedException {
			this.stopped = true;
			this.thread.join(timeout.toMillis());
			assertThat(this.thread.isAlive()).as("unary loop still running").isFalse();
			return new ArrayList<>(this.latencies);
		}

		List<Status> failures() {
			return this.failures;
		}

		/** Calls made so far, succeeded or failed. */
		int calls() {
			return this.latencies.size() + this.failures.size();
		}

		private static void sleep(Duration duration) {
			try {
				Thread.sleep(duration.toMillis());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
