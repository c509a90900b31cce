package dev.grpckeepalive.benchmarks;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import org.jspecify.annotations.Nullable;

/**
 * The event-loop configuration every variant of the load and allocation benchmarks runs on,
 * so that a ratio between two variants shows what one adds and not how its event loops are
 * set up. It is the configuration the starter's frame observer gives its server and its
 * channels ({@code FrameObservingTransport.forServer()} and {@code forChannels()}):
 * <ul>
 * <li>server: its own group of one acceptor (boss) thread and its own group of
 * {@code 2 x cores} worker threads;</li>
 * <li>client: its own group of {@code 2 x cores} worker threads, not shared with the server;</li>
 * <li>native epoll where available, else NIO, for the groups and the channel types alike;</li>
 * <li>daemon threads; each deployment creates its groups and shuts them down after its server
 * and channel have terminated (quiet period 0, timeout 5 s).</li>
 * </ul>
 * Variants whose builders the starter instruments with the frame observer get these groups
 * from the starter itself; the others (plain grpc-java, the starter with frames off, Spring
 * Boot's gRPC alone) get them from here, where grpc-java would otherwise run server and
 * client on its one shared default group. Keep the two in step.
 */
final class EventLoops implements AutoCloseable {

	/** grpc-java's default worker count, which the starter also uses. */
	static final int WORKER_THREADS = 2 * Runtime.getRuntime().availableProcessors();

	private static final boolean EPOLL = Epoll.isAvailable();

	private final @Nullable EventLoopGroup boss;

	private final EventLoopGroup worker;

	private EventLoops(String name, int bossThreads) {
		IoHandlerFactory ioHandler = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
		this.boss = (bossThreads > 0)
				? new MultiThreadIoEventLoopGroup(bossThreads, new DefaultThreadFactory(name + "-boss", true), ioHandler)
				: null;
		this.worker = new MultiThreadIoEventLoopGroup(WORKER_THREADS, new DefaultThreadFactory(name, true), ioHandler);
	}

	/** One acceptor thread and {@link #WORKER_THREADS} workers, for one server. */
	static EventLoops forServer() {
		return new EventLoops("bench-server", 1);
	}

	/** {@link #WORKER_THREADS} workers, for the channels of one client. */
	static EventLoops forChannels() {
		return new EventLoops("bench-client", 0);
	}

	/** Whether the native epoll transport is in use (otherwise NIO). */
	static boolean isEpoll() {
		return EPOLL;
	}

	void applyTo(NettyServerBuilder builder) {
		ChannelFactory<ServerChannel> listeners = () -> EPOLL ? new EpollServerSocketChannel()
				: new NioServerSocketChannel();
		builder.bossEventLoopGroup(this.boss).workerEventLoopGroup(this.worker).channelFactory(listeners);
	}

	void applyTo(NettyChannelBuilder builder) {
		ChannelFactory<Channel> connections = () -> EPOLL ? new EpollSocketChannel() : new NioSocketChannel();
		builder.eventLoopGroup(this.worker).channelFactory(connections);
	}

	@Override
	public void close() {
		if (this.boss != null) {
			this.boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
		}
		this.worker.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
	}

	/**
	 * The live event-loop threads by name prefix (the name without its trailing numbers), to
	 * show in the output that a deployment runs on the groups it should: no
	 * {@code grpc-default-*} or {@code grpc-nio-*} threads of grpc-java's shared groups, and
	 * as many worker threads on each side as the variants beside it.
	 */
	static Map<String, Integer> liveThreads() {
		Map<String, Integer> counts = new TreeMap<>();
		for (Thread thread : Thread.getAllStackTraces().keySet()) {
			String name = thread.getName();
			if (name.startsWith("grpc-") || name.startsWith("bench-")) {
				counts.merge(name.replaceAll("[-0-9]+$", ""), 1, Integer::sum);
			}
		}
		return counts;
	}

}
