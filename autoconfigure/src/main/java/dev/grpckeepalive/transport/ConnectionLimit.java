package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * A cap on the connections a server keeps open at once, which grpc-java lacks. It works at
 * accept: a handler in the listening channel's pipeline, ahead of Netty's acceptor, sees each
 * accepted socket before grpc-java does, and resets those over the cap at once (an abortive
 * close: no HTTP/2 handshake, no transport, no TIME_WAIT on the server), so that a flood of
 * connections costs the server an accept and a close each, nothing more.
 *
 * <p>Plugs in wherever the server's listening channel is created: {@link #wrap} decorates a
 * listener {@link ChannelFactory} given to {@code NettyServerBuilder.channelFactory}, or
 * {@link #acceptHandler()} goes into the listener's pipeline directly. A refused client sees
 * a connection reset, which grpc-java clients treat as {@code UNAVAILABLE} and retry with
 * backoff. Refusals are logged condensed: the first one, then at most one line per
 * {@link #LOG_INTERVAL} with the count.
 */
final class ConnectionLimit {

	/** At most one WARN about refused connections per this interval. */
	public static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

	private static final Log logger = LogFactory.getLog(ConnectionLimit.class);

	private final int maxConnections;

	private final String property;

	private final AtomicInteger open = new AtomicInteger();

	private final AtomicLong refused = new AtomicLong();

	private final AtomicLong refusedSinceLog = new AtomicLong();

	private final AtomicLong lastLogNanos;

	private final LongSupplier ticker;

	private final Handler handler = new Handler();

	/** One listener for every accepted connection's close: no object per connection. */
	private final ChannelFutureListener closed = (future) -> this.open.decrementAndGet();

	private volatile Runnable onRefused = () -> {
	};

	/**
	 * @param maxConnections the most connections open at once, positive
	 * @param property the property that set it, named in the log
	 */
	public ConnectionLimit(int maxConnections, String property) {
		this(maxConnections, property, System::nanoTime);
	}

	ConnectionLimit(int maxConnections, String property, LongSupplier ticker) {
		if (maxConnections < 1) {
			throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
		}
		this.maxConnections = maxConnections;
		this.property = property;
		this.ticker = ticker;
		this.lastLogNanos = new AtomicLong(ticker.getAsLong() - LOG_INTERVAL.toNanos());
	}

	/** Calls {@code listener} for every connection refused from now on, on the acceptor thread. */
	public ConnectionLimit onRefused(Runnable listener) {
		this.onRefused = listener;
		return this;
	}

	/** The handler for the listening channel's pipeline; shared by all the server's listeners. */
	public ChannelHandler acceptHandler() {
		return this.handler;
	}

	/** A listener factory that puts {@link #acceptHandler()} into each listener {@code listeners} creates. */
	public <C extends ServerChannel> ChannelFactory<C> wrap(ChannelFactory<C> listeners) {
		return () -> {
			C listener = listeners.newChannel();
			listener.pipeline().addLast(this.handler);
			return listener;
		};
	}

	public int maxConnections() {
		return this.maxConnections;
	}

	/** Connections accepted and not yet closed. */
	public int openConnections() {
		return this.open.get();
	}

	/** Connections reset at accept because the cap was reached, since the server started. */
	public long refusedConnections() {
		return this.refused.get();
	}

	private boolean admit(Channel accepted) {
		if (this.open.incrementAndGet() > this.maxConnections) {
			this.open.decrementAndGet();
			return false;
		}
		// the accepted channel completes its close future however it ends, registration failures included
		accepted.closeFuture().addListener(this.closed);
		return true;
	}

	private void refuse(Channel accepted) {
		this.refused.incrementAndGet();
		this.refusedSinceLog.incrementAndGet();
		this.onRefused.run();
		try {
			// RST instead of FIN: nothing to linger over, and the socket is freed at once
			accepted.config().setOption(ChannelOption.SO_LINGER, 0);
		}
		catch (RuntimeException ex) {
			// not a TCP socket (a domain socket, say): an orderly close does as well
		}
		// not registered with an event loop yet: close it where it is, as Netty's acceptor does on failure
		accepted.unsafe().closeForcibly();
		logRefusals();
	}

	private void logRefusals() {
		long now = this.ticker.getAsLong();
		long last = this.lastLogNanos.get();
		if (now - last >= LOG_INTERVAL.toNanos() && this.lastLogNanos.compareAndSet(last, now)) {
			long count = this.refusedSinceLog.getAndSet(0);
			logger.warn("Refused " + count + " connection(s) in the last " + LOG_INTERVAL.toSeconds() + "s: "
					+ this.maxConnections + " connections were open (" + this.property + "); " + this.refused.get()
					+ " refused since start");
		}
	}

	/** Sits in the listener's pipeline; the messages it reads are the accepted, not yet registered, channels. */
	@ChannelHandler.Sharable
	private final class Handler extends ChannelInboundHandlerAdapter {

		@Override
		public void channelRead(ChannelHandlerContext ctx, Object msg) {
			if (msg instanceof Channel accepted && !admit(accepted)) {
				refuse(accepted);
				return;
			}
			ctx.fireChannelRead(msg);
		}

	}

}
