package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.transport.ConnectionLimit;
import dev.grpckeepalive.transport.FrameFloodLimits;

/**
 * The Netty transport of a server or of channels with a {@link FrameObserver} on every
 * connection. It owns its event loops and channel type, epoll where available and NIO
 * otherwise, because installing the observer needs the channel factory, and grpc-java
 * requires the event loops to match a custom channel type. Close it after the server or
 * channels that use it have terminated.
 *
 * <p>A Unix domain socket needs epoll's domain socket channels (as Spring Boot's own
 * {@code unix:} server and channels use); without epoll such a builder is left as it is,
 * its frames unobserved.
 */
public final class FrameObservingTransport implements AutoCloseable {

	private static final Duration QUIET_PERIOD = Duration.ZERO;

	private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(5);

	private final boolean epoll;

	private final @Nullable EventLoopGroup boss;

	private final EventLoopGroup worker;

	private final LongSupplier ticker;

	private FrameObservingTransport(String name, int bossThreads, int workerThreads, LongSupplier ticker) {
		this.epoll = Epoll.isAvailable();
		IoHandlerFactory ioHandler = this.epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
		this.boss = (bossThreads > 0)
				? new MultiThreadIoEventLoopGroup(bossThreads, new DefaultThreadFactory(name + "-boss", true), ioHandler)
				: null;
		this.worker = new MultiThreadIoEventLoopGroup(workerThreads, new DefaultThreadFactory(name, true), ioHandler);
		this.ticker = ticker;
	}

	/** Event loops for one server: one acceptor thread, and grpc-java's default of two workers per core. */
	public static FrameObservingTransport forServer() {
		return new FrameObservingTransport("grpc-keepalive-server", 1, 2 * Runtime.getRuntime().availableProcessors(),
				System::nanoTime);
	}

	/** Event loops shared by all channels of the application. */
	public static FrameObservingTransport forChannels() {
		return new FrameObservingTransport("grpc-keepalive-client", 0, 2 * Runtime.getRuntime().availableProcessors(),
				System::nanoTime);
	}

	/** Whether the native epoll transport is in use (otherwise NIO). */
	public boolean isEpoll() {
		return this.epoll;
	}

	/**
	 * Makes the server use these event loops and observe every accepted connection.
	 * @param builder the server builder
	 * @param tracker where the connections are recorded
	 * @param keepAliveTimeout the server's keepalive timeout, after which an unanswered keepalive PING counts as timed out
	 * @param limits the server's abuse limits, for the cap on open connections and the
	 * frame-flood limits; {@code null} for none
	 */
	public void applyTo(NettyServerBuilder builder, ConnectionTracker tracker, Duration keepAliveTimeout,
			@Nullable ServerLimitSettings limits) {
		applyTo(builder, tracker, keepAliveTimeout, limits, false);
	}

	/**
	 * Makes the server use these event loops and observe every accepted connection.
	 * @param builder the server builder
	 * @param tracker where the connections are recorded
	 * @param keepAliveTimeout the server's keepalive timeout, after which an unanswered keepalive PING counts as timed out
	 * @param limits the server's abuse limits, for the cap on open connections and the
	 * frame-flood limits; {@code null} for none
	 * @param domainSocket whether the server listens on a Unix domain socket
	 * @return whether the observer was installed: not on a domain socket without epoll
	 */
	public boolean applyTo(NettyServerBuilder builder, ConnectionTracker tracker, Duration keepAliveTimeout,
			@Nullable ServerLimitSettings limits, boolean domainSocket) {
		if (domainSocket && !this.epoll) {
			return false;
		}
		FrameFloodLimits floodLimits = (limits != null) ? FrameFloodLimits.of(limits) : null;
		ConnectionLimit connectionLimit = (limits != null && limits.maxConnections().isEnabled())
				? new ConnectionLimit(limits.maxConnections().effectiveInt(), limits.maxConnections().property())
					.onRefused(tracker::connectionRefused)
				: null;
		ChannelFactory<ServerChannel> listeners = () -> {
			ServerChannel listener = domainSocket ? new EpollServerDomainSocketChannel()
					: this.epoll ? new EpollServerSocketChannel() : new NioServerSocketChannel();
			if (connectionLimit != null) {
				// first: a refused socket never gets an observer, a record or a grpc-java transport
				listener.pipeline().addLast(connectionLimit.acceptHandler());
			}
			listener.pipeline()
				.addLast(new ObserverInstaller(new ObserverSettings(tracker, true, keepAliveTimeout, this.ticker, floodLimits)));
			return listener;
		};
		builder.bossEventLoopGroup(this.boss).workerEventLoopGroup(this.worker).channelFactory(listeners);
		tracker.framesObserved();
		return true;
	}

	/**
	 * Makes a channel use these event loops and observe every connection it opens.
	 * @param builder the channel builder
	 * @param tracker where the channel's connections are recorded
	 * @param keepAliveTimeout the channel's keepalive timeout
	 */
	public void applyTo(NettyChannelBuilder builder, ConnectionTracker tracker, Duration keepAliveTimeout) {
		applyTo(builder, tracker, keepAliveTimeout, false);
	}

	/**
	 * Makes a channel use these event loops and observe every connection it opens.
	 * @param builder the channel builder
	 * @param tracker where the channel's connections are recorded
	 * @param keepAliveTimeout the channel's keepalive timeout
	 * @param domainSocket whether the channel connects to a Unix domain socket
	 * @return whether the observer was installed: not on a domain socket without epoll
	 */
	public boolean applyTo(NettyChannelBuilder builder, ConnectionTracker tracker, Duration keepAliveTimeout,
			boolean domainSocket) {
		if (domainSocket && !this.epoll) {
			return false;
		}
		ObserverSettings settings = new ObserverSettings(tracker, false, keepAliveTimeout, this.ticker, null);
		ChannelFactory<Channel> connections = () -> {
			Channel channel = domainSocket ? new EpollDomainSocketChannel()
					: this.epoll ? new EpollSocketChannel() : new NioSocketChannel();
			channel.pipeline().addFirst(FrameObserver.NAME, new FrameObserver(settings));
			return channel;
		};
		builder.eventLoopGroup(this.worker).channelFactory(connections);
		tracker.framesObserved();
		return true;
	}

	@Override
	public void close() {
		if (this.boss != null) {
			this.boss.shutdownGracefully(QUIET_PERIOD.toMillis(), SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
		}
		this.worker.shutdownGracefully(QUIET_PERIOD.toMillis(), SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * Sits in the listening channel's pipeline, ahead of Netty's acceptor, and puts an
	 * observer at the head of each accepted connection before grpc-java adds its handlers.
	 */
	@ChannelHandler.Sharable
	private final class ObserverInstaller extends ChannelInboundHandlerAdapter {

		/** Shared by the observers of all the server's connections. */
		private final ObserverSettings settings;

		ObserverInstaller(ObserverSettings settings) {
			this.settings = settings;
		}

		@Override
		public void channelRead(ChannelHandlerContext ctx, Object msg) {
			if (msg instanceof Channel accepted) {
				accepted.pipeline().addFirst(FrameObserver.NAME, new FrameObserver(this.settings));
			}
			ctx.fireChannelRead(msg);
		}

	}

}
