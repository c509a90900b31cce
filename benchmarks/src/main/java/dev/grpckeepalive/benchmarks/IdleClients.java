package dev.grpckeepalive.benchmarks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import org.jspecify.annotations.Nullable;

/**
 * A separate JVM holding N idle HTTP/2 connections to a server, each sending a keepalive PING
 * every {@value #PING_SECONDS} s without calls, as a grpc-java channel with
 * {@code keepAliveTime(10s)}, {@code keepAliveWithoutCalls(true)} would. Raw HTTP/2 on Netty
 * (the client preface, SETTINGS and their ACK, PINGs and their ACKs; no stream), about 2 KiB
 * per connection instead of a grpc-java channel's tens: so that 100k connections fit in a few
 * client JVMs, each within its own open-file limit.
 *
 * <p>Connections bind to the loopback source addresses {@code 127.0.0.<first>} onwards,
 * {@value #PER_SOURCE_ADDRESS} per address, so that no address runs out of ephemeral ports
 * (about 28k on Linux by default). A PING not acknowledged within {@value #PING_SECONDS} s
 * counts as a timeout, as the channel's keepalive timeout would.
 *
 * <p>Arguments: server port, connections, index of the first connection (which places it on
 * its source address). Prints {@code ready} once every connection has the server's SETTINGS;
 * on a line {@code stats} on its standard input prints
 * {@code stats <sent> <acked> <timeouts> <closed> <goaways>}; exits when its input closes.
 */
public final class IdleClients {

	static final int PER_SOURCE_ADDRESS = 10_000;

	/** The first loopback source address's last byte: 127.0.0.1 is left to everything else on the machine. */
	static final int FIRST_SOURCE_ADDRESS = 2;

	private static final int PING_SECONDS = 10;

	/** How many connects may be under way at once: within the server's accept backlog. */
	private static final int CONNECTS_IN_FLIGHT = 256;

	private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

	private static final int SETTINGS = 0x4;

	private static final int PING = 0x6;

	private static final int GOAWAY = 0x7;

	private static final int ACK = 0x1;

	private static final LongAdder sent = new LongAdder();

	private static final LongAdder acked = new LongAdder();

	private static final LongAdder timeouts = new LongAdder();

	private static final LongAdder closed = new LongAdder();

	private static final LongAdder goaways = new LongAdder();

	private IdleClients() {
	}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(args[0]);
		int count = Integer.parseInt(args[1]);
		int first = Integer.parseInt(args[2]);
		boolean epoll = Epoll.isAvailable();
		EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("idle-clients", true),
				epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
		CountDownLatch ready = new CountDownLatch(count);
		Bootstrap bootstrap = new Bootstrap().group(group)
			.channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
			.option(ChannelOption.SO_REUSEADDR, true)
			.handler(new ChannelInitializer<>() {
				@Override
				protected void initChannel(Channel channel) {
					channel.pipeline().addLast(new Connection(ready));
				}
			});
		List<Channel> channels = new ArrayList<>(count);
		Semaphore inFlight = new Semaphore(CONNECTS_IN_FLIGHT);
		AtomicInteger failed = new AtomicInteger();
		InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
		for (int i = 0; i < count; i++) {
			int index = first + i;
			InetSocketAddress source = new InetSocketAddress(
					"127.0.0." + (FIRST_SOURCE_ADDRESS + index / PER_SOURCE_ADDRESS), 0);
			inFlight.acquire();
			Channel channel = bootstrap.connect(server, source).addListener((ChannelFutureListener) (future) -> {
				inFlight.release();
				if (!future.isSuccess()) {
					failed.incrementAndGet();
					System.err.println("connect failed: " + future.cause());
				}
			}).channel();
			channels.add(channel);
		}
		if (!ready.await(5, TimeUnit.MINUTES) || failed.get() > 0) {
			System.out.println("failed " + failed.get() + " connects, " + ready.getCount() + " without SETTINGS");
			System.exit(1);
		}
		System.out.println("ready");
		System.out.flush();
		// every connection PINGs once per period, spread evenly over it
		int slices = 100;
		group.next().scheduleAtFixedRate(new Runnable() {
			private int slice;

			@Override
			public void run() {
				long now = System.nanoTime();
				for (int i = this.slice; i < channels.size(); i += slices) {
					Channel channel = channels.get(i);
					Connection connection = channel.pipeline().get(Connection.class);
					if (connection != null) {
						connection.keepAlive(channel, now);
					}
				}
				this.slice = (this.slice + 1) % slices;
			}
		}, PING_SECONDS * 1000L / slices, PING_SECONDS * 1000L / slices, TimeUnit.MILLISECONDS);
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String line;
		while ((line = in.readLine()) != null) {
			if (line.equals("stats")) {
				System.out.println("stats " + sent.sum() + " " + acked.sum() + " " + timeouts.sum() + " "
						+ closed.sum() + " " + goaways.sum());
				System.out.flush();
			}
		}
		channels.forEach(Channel::close);
		group.shutdownGracefully(0, 5, TimeUnit.SECONDS);
		System.exit(0);
	}

	/** One connection's HTTP/2 state: the bytes of a frame read in part, and the PING in flight. */
	private static final class Connection extends ChannelInboundHandlerAdapter {

		private final CountDownLatch ready;

		private @Nullable ByteBuf partial;

		private boolean settingsSeen;

		/** When the PING in flight was sent, 0 when none is. Event loop only. */
		private long pingSentNanos;

		Connection(CountDownLatch ready) {
			this.ready = ready;
		}

		@Override
		public void channelActive(ChannelHandlerContext ctx) {
			ByteBuf hello = ctx.alloc().buffer(PREFACE.length + 9);
			hello.writeBytes(PREFACE);
			frameHeader(hello, 0, SETTINGS, 0);
			ctx.writeAndFlush(hello);
		}

		/** Sends a PING unless one is in flight; a PING unanswered for the period is a timeout. */
		void keepAlive(Channel channel, long now) {
			channel.eventLoop().execute(() -> {
				if (!channel.isActive()) {
					return;
				}
				if (this.pingSentNanos != 0) {
					if (now - this.pingSentNanos < TimeUnit.SECONDS.toNanos(PING_SECONDS)) {
						return;
					}
					timeouts.increment();
				}
				this.pingSentNanos = System.nanoTime();
				ByteBuf ping = channel.alloc().buffer(17);
				frameHeader(ping, 8, PING, 0);
				ping.writeLong(this.pingSentNanos);
				channel.writeAndFlush(ping);
				sent.increment();
			});
		}

		@Override
		public void channelRead(ChannelHandlerContext ctx, Object msg) {
			ByteBuf in = (ByteBuf) msg;
			if (this.partial != null) {
				ByteBuf joined = Unpooled.buffer(this.partial.readableBytes() + in.readableBytes());
				joined.writeBytes(this.partial).writeBytes(in);
				this.partial.release();
				in.release();
				this.partial = null;
				in = joined;
			}
			try {
				while (in.readableBytes() >= 9) {
					int length = in.getUnsignedMedium(in.readerIndex());
					if (in.readableBytes() < 9 + length) {
						break;
					}
					int type = in.getUnsignedByte(in.readerIndex() + 3);
					int flags = in.getUnsignedByte(in.readerIndex() + 4);
					in.skipBytes(9);
					frame(ctx, type, flags, in.slice(in.readerIndex(), length));
					in.skipBytes(length);
				}
				if (in.isReadable()) {
					this.partial = Unpooled.copiedBuffer(in);
				}
			}
			finally {
				in.release();
			}
		}

		private void frame(ChannelHandlerContext ctx, int type, int flags, ByteBuf payload) {
			if (type == SETTINGS && (flags & ACK) == 0) {
				ByteBuf ack = ctx.alloc().buffer(9);
				frameHeader(ack, 0, SETTINGS, ACK);
				ctx.writeAndFlush(ack);
				if (!this.settingsSeen) {
					this.settingsSeen = true;
					this.ready.countDown();
				}
			}
			else if (type == PING && (flags & ACK) != 0) {
				if (this.pingSentNanos != 0 && payload.readableBytes() == 8 && payload.getLong(0) == this.pingSentNanos) {
					this.pingSentNanos = 0;
					acked.increment();
				}
			}
			else if (type == PING) {
				ByteBuf ack = ctx.alloc().buffer(17);
				frameHeader(ack, 8, PING, ACK);
				ack.writeBytes(payload, 0, 8);
				ctx.writeAndFlush(ack);
			}
			else if (type == GOAWAY) {
				goaways.increment();
			}
		}

		@Override
		public void channelInactive(ChannelHandlerContext ctx) {
			closed.increment();
			if (this.partial != null) {
				this.partial.release();
				this.partial = null;
			}
		}

		@Override
		public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
			ctx.close();
		}

		private static void frameHeader(ByteBuf out, int length, int type, int flags) {
			out.writeMedium(length);
			out.writeByte(type);
			out.writeByte(flags);
			out.writeInt(0);
		}

	}

}
