package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.UserAgentCapture;
import dev.grpckeepalive.logging.AbuseLog;
import dev.grpckeepalive.transport.FrameFloodGuard;
import dev.grpckeepalive.transport.FrameFloodLimits;

/**
 * Watches the HTTP/2 frames of one connection as they pass, in both directions, and feeds
 * PINGs and GOAWAYs into the connection's {@link ConnectionRecord}: PING counts by kind,
 * round-trip times from PING to matching ACK, keepalive timeouts, GOAWAYs with error code
 * and debug data.
 *
 * <p>Passive towards well-behaved peers: it never changes, holds or delays their bytes, and never throws into the pipeline.
 * It sits at the head of the pipeline; on a TLS connection it moves itself to just after the
 * {@link SslHandler} before any HTTP/2 byte flows. If the bytes are not HTTP/2 it switches
 * itself off for that connection, with one WARN, and leaves the connection to grpc-java.
 *
 * <p>On a server connection it also enforces the {@link FrameFloodLimits}: a client that
 * floods PING ACKs, SETTINGS, empty frames, WINDOW_UPDATE frames beyond what its traffic
 * earns, or resets of streams the server had not answered, is sent a GOAWAY
 * {@code ENHANCE_YOUR_CALM} naming the limit and closed (close reason {@code abuse}).
 *
 * <p>One active step: after a keepalive timeout, grpc-java 1.84 cancels the calls and
 * sends GOAWAY, but its close is graceful and can keep the socket and its buffers for as long
 * as the silent peer does not read: the observer makes that close abortive, and resets the
 * connection itself {@link #KEEPALIVE_TIMEOUT_CLOSE_DELAY} later if grpc-java has not closed it.
 *
 * <p>It also feeds a {@link KeepAliveEvidence} for the keepalive advisor.
 */
public final class FrameObserver extends ChannelDuplexHandler {

	static final String NAME = "grpcKeepaliveFrameObserver";

	private static final Log logger = LogFactory.getLog(FrameObserver.class);

	private static final byte TLS_HANDSHAKE_RECORD = 0x16;

	private static final long NONE = Long.MIN_VALUE;

	/**
	 * How long grpc-java gets to close a connection itself after its keepalive timeout GOAWAY.
	 * grpc-java 1.84 cancels the calls and sends the GOAWAY, but where the GOAWAY cannot be
	 * written it waits for a graceful HTTP/2 shutdown that a dead peer never completes.
	 */
	static final Duration KEEPALIVE_TIMEOUT_CLOSE_DELAY = Duration.ofSeconds(1);

	/** How long a client closed for abuse gets to read its GOAWAY before the connection is reset. */
	static final Duration ABUSE_CLOSE_DELAY = Duration.ofSeconds(1);

	private static final long ENHANCE_YOUR_CALM = 0xb;



	private final ConnectionTracker tracker;

	private final boolean serverSide;

	private final long keepAliveTimeoutNanos;

	private final LongSupplier ticker;

	private final Http2FrameDecoder inbound;

	private final Http2FrameDecoder outbound;

	/** The server's frame-flood limits for this connection, or {@code null} (client side, or all off). */
	private final @Nullable FrameFloodGuard floodGuard;

	private final @Nullable FrameFloodLimits floodLimits;

	/** The highest stream the client opened (server side): resets above it are ignored, and an abuse GOAWAY names it. Event loop only. */
	private int highestClientStream;

	/** An abuse limit closed the connection: what the client still sends is dropped. */
	private boolean closingForAbuse;

	/** What the frames say about keepalive, for the advisor. */
	private final KeepAliveEvidence evidence;

	/** When the outstanding PING of each kind was sent, or {@link #NONE}. Event loop only. */
	private final long[] outstandingSince = new long[PingKind.values().length];

	private @Nullable ConnectionRecord record;

	private @Nullable ChannelHandlerContext context;

	private boolean firstBytesChecked;

	/** Bytes were written since the last flush. Event loop only. */
	private boolean written;

	private boolean off;

	FrameObserver(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker) {
		this(tracker, serverSide, keepAliveTimeout, ticker, null);
	}

	/**
	 * An observer for one new connection.
	 * @param floodLimits the server's frame-flood limits, enforced on what the client sends, or
	 * {@code null} for none (always on the client side)
	 */
	FrameObserver(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker,
			@Nullable FrameFloodLimits floodLimits) {
		this(tracker, serverSide, keepAliveTimeout.toNanos(), ticker, null, null, false, floodLimits);
	}

	private FrameObserver(ConnectionTracker tracker, boolean serverSide, long keepAliveTimeoutNanos,
			LongSupplier ticker, @Nullable ConnectionRecord record, @Nullable KeepAliveEvidence evidence,
			boolean afterTls, @Nullable FrameFloodLimits floodLimits) {
		this.tracker = tracker;
		this.serverSide = serverSide;
		this.keepAliveTimeoutNanos = keepAliveTimeoutNanos;
		this.ticker = ticker;
		this.floodLimits = serverSide ? floodLimits : null;
		this.floodGuard = (this.floodLimits != null) ? this.floodLimits.newGuard() : null;
		this.record = record;
		this.evidence = (evidence != null) ? evidence : new KeepAliveEvidence(ticker.getAsLong());
		this.firstBytesChecked = afterTls;
		this.inbound = new Http2FrameDecoder(new Inbound(), serverSide);
		this.outbound = new Http2FrameDecoder(new Outbound(), !serverSide);
		Http2FrameDecoder.pair(this.inbound, this.outbound);
		java.util.Arrays.fill(this.outstandingSince, NONE);
	}

	@Override
	public void handlerAdded(ChannelHandlerContext ctx) {
		this.context = ctx;
		if (this.record == null && ctx.channel().isActive()) {
			open(ctx);
		}
	}

	@Override
	public void channelActive(ChannelHandlerContext ctx) throws Exception {
		if (this.record == null) {
			open(ctx);
		}
		super.channelActive(ctx);
	}

	private void open(ChannelHandlerContext ctx) {
		ConnectionRecord opened = this.tracker.connectionOpened(ctx.channel().remoteAddress(),
				ctx.channel().localAddress());
		this.record = opened;
		opened.observed();
		// the evidence itself, not a lambda around it: one object less per connection
		opened.silenceProbe(this.evidence);
	}

	@Override
	public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
		if (!this.off && msg instanceof ByteBuf buffer) {
			this.evidence.inbound(this.record, this.ticker.getAsLong());
			observe(ctx, buffer, this.inbound, this.serverSide);
		}
		if (this.closingForAbuse) {
			// the flood that broke a limit goes no further than this observer
			ReferenceCountUtil.release(msg);
			return;
		}
		ConnectionRecord current = this.record;
		if (this.serverSide && current != null && !current.isUserAgentKnown()) {
			// grpc-java creates its stream tracers inside this call: UserAgentCapture reads the user agent there
			UserAgentCapture.reading(current);
			try {
				ctx.fireChannelRead(msg);
			}
			finally {
				UserAgentCapture.reading(null);
			}
			return;
		}
		ctx.fireChannelRead(msg);
	}

	@Override
	public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
		if (!this.off && msg instanceof ByteBuf buffer) {
			this.written |= buffer.isReadable();
			observe(ctx, buffer, this.outbound, !this.serverSide);
		}
		ctx.write(msg, promise);
	}

	/** Frames leave at the flush: the time of the last frame this side sent, one ticker read per flush. */
	@Override
	public void flush(ChannelHandlerContext ctx) throws Exception {
		ConnectionRecord current = this.record;
		if (this.written && current != null && !this.off) {
			this.written = false;
			this.evidence.outbound(current, this.ticker.getAsLong());
		}
		ctx.flush();
	}

	private void observe(ChannelHandlerContext ctx, ByteBuf buffer, Http2FrameDecoder decoder, boolean clientBytes) {
		try {
			if (!this.firstBytesChecked && clientBytes && buffer.isReadable()) {
				this.firstBytesChecked = true;
				if (buffer.getByte(buffer.readerIndex()) == TLS_HANDSHAKE_RECORD && moveAfterTls(ctx)) {
					return;
				}
			}
			decoder.decode(buffer);
		}
		catch (MalformedBytes ex) {
			switchOff(ctx, ex.reason());
		}
		catch (RuntimeException ex) {
			switchOff(ctx, "observer failure: " + ex);
		}
	}

	/** Moves the observer behind the SslHandler, where the bytes are plain HTTP/2. */
	private boolean moveAfterTls(ChannelHandlerContext ctx) {
		ChannelPipeline pipeline = ctx.pipeline();
		ChannelHandlerContext tls = pipeline.context(SslHandler.class);
		if (tls == null) {
			return false;
		}
		this.off = true;
		pipeline.addAfter(tls.name(), NAME + "Tls", new FrameObserver(this.tracker, this.serverSide,
				this.keepAliveTimeoutNanos, this.ticker, this.record, this.evidence, true, this.floodLimits));
		pipeline.remove(this);
		return true;
	}

	/**
	 * This side closes the connection. A server that closes a connection whose client never
	 * completed the HTTP/2 handshake (preface and SETTINGS) has given up on it: grpc-java's
	 * handshake timeout, typically, after which it closes with at most a plain GOAWAY
	 * NO_ERROR. Without this the close would be inferred as {@code peer_closed}.
	 */
	@Override
	public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
		ConnectionRecord current = this.record;
		if (current != null && this.serverSide && !this.inbound.isSettingsSeen()) {
			current.closedBeforeHandshake();
		}
		ctx.close(promise);
	}

	@Override
	public void channelInactive(ChannelHandlerContext ctx) throws Exception {
		ConnectionRecord current = this.record;
		if (current != null) {
			try {
				if (!this.off && keepAliveOverdue()) {
					current.keepAliveTimedOut();
				}
				current.close();
			}
			catch (RuntimeException ex) {
				// A failing connection listener (a meter) must not keep the end of the connection from grpc-java.
				logger.warn("Recording the close of connection " + current.displayId() + " failed", ex);
			}
		}
		super.channelInactive(ctx);
	}

	@Override
	public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
		if (this.record != null) {
			this.record.errorSeen();
		}
		super.exceptionCaught(ctx, cause);
	}

	private boolean keepAliveOverdue() {
		long since = this.outstandingSince[PingKind.KEEPALIVE.ordinal()];
		return since != NONE && this.ticker.getAsLong() - since >= this.keepAliveTimeoutNanos;
	}

	/**
	 * Makes sure the socket of a connection that failed its keepalive is released. grpc-java's
	 * own close after the keepalive-timeout GOAWAY is graceful: the kernel keeps the socket (in
	 * FIN_WAIT1) and its unsent bytes for as long as the peer's receive window stays shut, which
	 * a stopped peer's kernel keeps answering for. {@code SO_LINGER 0} makes every close of this
	 * connection abortive (RST, buffers dropped) from now on; and if grpc-java has not closed the
	 * channel after {@link #KEEPALIVE_TIMEOUT_CLOSE_DELAY}, the observer closes it itself.
	 */
	private void releaseSocketAfterKeepAliveTimeout(ConnectionRecord current) {
		ChannelHandlerContext ctx = this.context;
		if (ctx == null) {
			return;
		}
		Channel channel = ctx.channel();
		channel.config().setOption(ChannelOption.SO_LINGER, 0);
		current.socketReleasedByStarter();
		ctx.executor().schedule(() -> {
			if (channel.isOpen()) {
				// Straight to the transport: through the pipeline, grpc-java's handler would turn the
				// close into another graceful shutdown, and an SslHandler would wait for close_notify.
				channel.unsafe().close(channel.voidPromise());
			}
		}, KEEPALIVE_TIMEOUT_CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * Closes a connection whose client broke one of the server's frame-flood limits: a GOAWAY
	 * {@code ENHANCE_YOUR_CALM} naming the limit, straight to the socket, then the close,
	 * which {@link #ABUSE_CLOSE_DELAY} later is forced if the client does not read. grpc-java
	 * gets nothing more from the connection. Logged condensed by {@link AbuseLog}.
	 */
	private void closeForAbuse(String limit) {
		ChannelHandlerContext ctx = this.context;
		ConnectionRecord current = this.record;
		if (this.closingForAbuse || ctx == null) {
			return;
		}
		this.closingForAbuse = true;
		this.inbound.stop();
		if (current != null) {
			current.abused(limit);
			current.goAwaySent(ENHANCE_YOUR_CALM, limit, false);
		}
		AbuseLog.closed(limit, (current != null) ? current.displayId() : "?", ctx.channel().remoteAddress());
		Channel channel = ctx.channel();
		// Straight to the transport, as after a keepalive timeout: grpc-java would drain gracefully.
		ctx.writeAndFlush(goAway(ctx, limit)).addListener((future) -> channel.unsafe().close(channel.voidPromise()));
		ctx.executor().schedule(() -> {
			if (channel.isOpen()) {
				channel.config().setOption(ChannelOption.SO_LINGER, 0);
				channel.unsafe().close(channel.voidPromise());
			}
		}, ABUSE_CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** A GOAWAY frame: the highest stream the client opened, ENHANCE_YOUR_CALM, the limit as debug data. */
	private ByteBuf goAway(ChannelHandlerContext ctx, String limit) {
		byte[] debug = limit.getBytes(StandardCharsets.US_ASCII);
		ByteBuf frame = ctx.alloc().buffer(Http2FrameDecoder.FRAME_HEADER_LENGTH + 8 + debug.length);
		frame.writeMedium(8 + debug.length);
		frame.writeByte(Http2FrameDecoder.TYPE_GOAWAY);
		frame.writeByte(0);
		frame.writeInt(0);
		frame.writeInt(this.highestClientStream);
		frame.writeInt((int) ENHANCE_YOUR_CALM);
		frame.writeBytes(debug);
		return frame;
	}

	private void switchOff(ChannelHandlerContext ctx, String reason) {
		if (this.off) {
			return;
		}
		this.off = true;
		ConnectionRecord current = this.record;
		String id = (current != null) ? current.displayId() : "?";
		logger.warn("HTTP/2 frame observer off for connection " + id + " (" + ctx.channel().remoteAddress() + "): "
				+ reason + "; the connection is left to grpc-java");
		if (current != null) {
			current.observerOff(reason);
		}
	}

	/** Frames this side received. */
	private final class Inbound implements Http2FrameDecoder.Listener {

		@Override
		public void onPing(boolean ack, long payload) {
			ConnectionRecord current = FrameObserver.this.record;
			if (current == null) {
				return;
			}
			if (!ack) {
				current.pingReceived();
				if (FrameObserver.this.serverSide) {
					FrameObserver.this.evidence.peerPing(current, FrameObserver.this.tracker, PingKind.of(payload),
							FrameObserver.this.ticker.getAsLong());
				}
				return;
			}
			PingKind kind = PingKind.of(payload);
			long since = FrameObserver.this.outstandingSince[kind.ordinal()];
			if (since != NONE) {
				FrameObserver.this.outstandingSince[kind.ordinal()] = NONE;
				current.pingAcked(kind, FrameObserver.this.ticker.getAsLong() - since);
			}
			else if (FrameObserver.this.floodGuard != null) {
				String broken = FrameObserver.this.floodGuard.unsolicitedPingAck(FrameObserver.this.ticker.getAsLong());
				if (broken != null) {
					closeForAbuse(broken);
				}
			}
		}

		@Override
		public void onFrame(int type, int flags, int length, int streamId) {
			if (FrameObserver.this.serverSide && ignoredReset(type, streamId)) {
				return;
			}
			FrameFloodGuard guard = FrameObserver.this.floodGuard;
			if (guard == null) {
				return;
			}
			String broken = guard.inbound(type, flags, length, streamId, FrameObserver.this.ticker.getAsLong());
			if (broken != null) {
				closeForAbuse(broken);
			}
		}

		/**
		 * Tracks the streams the client opened, and has a RST_STREAM for a stream it never
		 * opened (stream 0, or above the highest) ignored: RFC 9113 makes it a connection error,
		 * and Netty closes the connection for it, failing every call on it, although the client
		 * only gave up on a stream the server never saw. HAProxy 2.6 and gRPC C-core 1.51 do this
		 * under load (docs/interop.md).
		 * @return whether the frame was turned into one the server ignores
		 */
		private boolean ignoredReset(int type, int streamId) {
			if (type == Http2FrameDecoder.TYPE_HEADERS) {
				if (streamId > FrameObserver.this.highestClientStream) {
					FrameObserver.this.highestClientStream = streamId;
				}
				return false;
			}
			if (type != Http2FrameDecoder.TYPE_RST_STREAM
					|| (streamId != 0 && streamId <= FrameObserver.this.highestClientStream)
					|| !FrameObserver.this.inbound.ignoreCurrentFrame()) {
				return false;
			}
			ConnectionRecord current = FrameObserver.this.record;
			ChannelHandlerContext ctx = FrameObserver.this.context;
			AbuseLog.ignoredReset(streamId, (current != null) ? current.displayId() : "?",
					(ctx != null) ? ctx.channel().remoteAddress() : null);
			return true;
		}

		@Override
		public void onGoAway(long errorCode, String debugData) {
			if (FrameObserver.this.record != null) {
				FrameObserver.this.record.goAwayReceived(errorCode, debugData);
			}
		}

		@Override
		public void onMalformed(String reason) {
			throw new MalformedBytes(reason);
		}

	}

	/** Frames this side sent. */
	private final class Outbound implements Http2FrameDecoder.Listener {

		@Override
		public void onPing(boolean ack, long payload) {
			ConnectionRecord current = FrameObserver.this.record;
			if (ack || current == null) {
				return;
			}
			PingKind kind = PingKind.of(payload);
			long now = FrameObserver.this.ticker.getAsLong();
			FrameObserver.this.outstandingSince[kind.ordinal()] = now;
			current.pingSent(kind);
			if (kind == PingKind.KEEPALIVE) {
				FrameObserver.this.evidence.keepAlivePingSent(current, now);
			}
		}

		@Override
		public void onFrame(int type, int flags, int length, int streamId) {
			if (FrameObserver.this.serverSide
					&& (type == Http2FrameDecoder.TYPE_HEADERS || type == Http2FrameDecoder.TYPE_DATA)) {
				long now = FrameObserver.this.ticker.getAsLong();
				FrameObserver.this.evidence.headersOrDataSent(now, type == Http2FrameDecoder.TYPE_DATA);
				FrameFloodGuard guard = FrameObserver.this.floodGuard;
				if (guard != null) {
					guard.outbound(type, flags, streamId);
				}
			}
			else if (type == Http2FrameDecoder.TYPE_SETTINGS && FrameObserver.this.floodGuard != null) {
				FrameObserver.this.floodGuard.outbound(type, flags, streamId);
			}
		}

		@Override
		public void onRstStream(int streamId, long errorCode) {
			FrameFloodGuard guard = FrameObserver.this.floodGuard;
			if (guard != null) {
				// a stream the server refused counts as the client's premature reset
				String broken = guard.resetSent(streamId, errorCode, FrameObserver.this.ticker.getAsLong());
				if (broken != null) {
					closeForAbuse(broken);
				}
			}
		}


		@Override
		public void onGoAway(long errorCode, String debugData) {
			ConnectionRecord current = FrameObserver.this.record;
			if (current == null) {
				return;
			}
			boolean overdue = keepAliveOverdue();
			if (overdue) {
				FrameObserver.this.outstandingSince[PingKind.KEEPALIVE.ordinal()] = NONE;
				current.keepAliveTimedOut();
				releaseSocketAfterKeepAliveTimeout(current);
			}
			current.goAwaySent(errorCode, debugData, overdue);
		}

		@Override
		public void onMalformed(String reason) {
			throw new MalformedBytes(reason);
		}

	}

	/** Unwinds the decoder to {@link #observe}, which switches the observer off. */
	private static final class MalformedBytes extends RuntimeException {

		private static final long serialVersionUID = 1L;

		private final String reason;

		MalformedBytes(String reason) {
			super(reason, null, false, false);
			this.reason = reason;
		}

		String reason() {
			return this.reason;
		}

		@Override
		public String toString() {
			return this.reason;
		}

	}

}
